"""The geography: state, districts, blocks, panchayats, booths, Lok Sabha and assembly seats."""

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from sync.scope import ASSEMBLY, BLOCK, BOOTH, DISTRICT, LOK_SABHA, PANCHAYAT, STATE

# The administrative tree top down, then the Lok Sabha and assembly seats beside it; how
# each names its ancestors is the table of unit types in sync/scope.py.
UNIT_TYPES = (STATE, DISTRICT, BLOCK, PANCHAYAT, BOOTH, LOK_SABHA, ASSEMBLY)


class Unit(db.Model):
    """One node of the geography.

    The administrative tree is state > district > block > panchayat > booth via
    `parent_id`; an assembly seat's parent is its Lok Sabha seat, whose parent is the
    state. A booth also names its assembly seat. `district_id` and `block_id` are kept
    on every unit below them so a scope test is a column comparison, not a tree walk.
    """

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("type", "code", name="uq_units_type_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    # Natural key within a type, e.g. RAN, AC-65, RAN-KANKE, AC-65-1; a panchayat's code
    # carries its district and block names, hence the room.
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    name_hi: Mapped[str] = mapped_column(String(200), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    block_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    assembly_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # Booth number within its assembly seat, or the seat's own number.
    number: Mapped[int | None] = mapped_column(Integer)
    # SC / ST reservation of a Lok Sabha or assembly seat.
    reserved: Mapped[str | None] = mapped_column(String(8))

    parent = relationship("Unit", remote_side=[id], foreign_keys=[parent_id])

    def name(self, language="hi"):
        return self.name_hi if language == "hi" else self.name_en

    def __repr__(self):
        return f"<Unit {self.type} {self.code} {self.name_en}>"
