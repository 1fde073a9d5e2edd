"""People who log in, their devices, refresh tokens and login attempts."""

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.extensions import db
from server.records import now_ms
from sync.fields import ROLES  # noqa: F401
from sync.scope import (  # noqa: F401
    ADMIN,
    BLOCK_PRESIDENT,
    CONNECT_CENTRE,
    DISTRICT_PRESIDENT,
    ROLE_UNIT_TYPE,
    VOLUNTEER,
)


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(10), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(24), nullable=False)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), nullable=False, index=True)
    language: Mapped[str] = mapped_column(String(2), nullable=False, default="hi")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Bumped when role or unit changes: a device whose pull cursor was made under an
    # older scope gets `reset`.
    scope_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)
    updated_at: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    unit = relationship("Unit", foreign_keys=[unit_id])


class Device(db.Model):
    """One installation of the app. Its id is made on the phone."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    created_at: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)
    last_seen_at: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)
    # Bumped on logout and on refresh-token reuse: every token of an older generation
    # stops working.
    token_generation: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The highest outbox seq this device has had applied.
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)

    user = relationship("User", foreign_keys=[user_id])


class RefreshToken(db.Model):
    """Every refresh token issued: a spent one presented again revokes the device."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), nullable=False, index=True)
    issued_at: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)
    expires_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    spent_at: Mapped[int | None] = mapped_column(BigInteger)
    # The token this one was exchanged for. Empty on a spent token means it was ended
    # (logout, revocation, or superseded by a retried refresh) rather than rotated.
    replaced_by: Mapped[str | None] = mapped_column(String(36))


class LoginAttempt(db.Model):
    """Failed logins, counted per phone and per address for the rate limit."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    address: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    at: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
