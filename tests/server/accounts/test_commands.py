"""flask create-user: making accounts from the server's shell."""

from sqlalchemy import func, select

from server.accounts.models import User
from server.accounts.passwords import verify_password
from server.audit.models import AuditEntry
from server.extensions import db


def _user(phone):
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.phone == phone))


def test_create_user_with_a_password_given(make, runner):
    g = make.geo()

    result = runner.invoke(
        args=[
            "create-user",
            "--phone", "+91 98000 00001",
            "--name", "Connect Centre",
            "--role", "connect_centre",
            "--unit-code", "JH",
            "--password", "war-room-2024",
        ]
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "Created connect_centre Connect Centre (9800000001)" in result.output
    user = _user("9800000001")
    assert (user.role, user.unit_id, user.active) == ("connect_centre", g.state.id, True)
    assert verify_password(user.password_hash, "war-room-2024")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.record_id == str(user.id)))
    assert (entry.action, entry.user_id) == ("create", None)


def test_create_user_prompts_for_the_password_twice_without_echo(make, runner):
    make.geo()

    result = runner.invoke(
        args=["create-user", "--phone", "9800000002", "--name", "Sita", "--role", "volunteer",
              "--unit-code", "AC-1-2"],
        input="typo-password\ntypo-passw0rd\nbooth-pass-1\nbooth-pass-1\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert "booth-pass-1" not in result.output
    assert verify_password(_user("9800000002").password_hash, "booth-pass-1")


def test_create_user_with_an_explicit_unit_type(make, runner):
    g = make.geo()

    result = runner.invoke(
        args=["create-user", "--phone", "9800000003", "--name", "Admin", "--role", "admin",
              "--unit-code", "JH", "--unit-type", "state", "--password", "admin-pass-1"],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert _user("9800000003").unit_id == g.state.id


def test_create_user_refuses_bad_input_with_reasons(make, runner):
    make.geo()
    make.user(phone="9800000009")
    base = ["create-user", "--name", "X", "--role", "block_president", "--unit-code", "RAN-KANKE"]
    cases = [
        (["--phone", "9800000004", "--password", "short"], "password:"),
        (["--phone", "12345", "--password", "long-enough-1"], "phone:"),
        (["--phone", "9800000009", "--password", "long-enough-1"], "already has an account"),
        (["--phone", "9800000005", "--password", "long-enough-1", "--unit-type", "district"],
         "No district has the code RAN-KANKE"),
        (["--phone", "9800000006", "--password", "long-enough-1", "--unit-type", "booth"],
         "No booth has the code"),
    ]  # fmt: skip
    before = db.session.scalar(select(func.count()).select_from(User))

    for extra, message in cases:
        result = runner.invoke(args=base + extra)
        assert result.exit_code == 1, (extra, result.output)
        assert message in result.output, (extra, result.output)

    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_create_user_refuses_a_role_that_does_not_fit_the_unit(make, runner):
    make.geo()

    result = runner.invoke(
        args=["create-user", "--phone", "9800000007", "--name", "X", "--role", "volunteer",
              "--unit-code", "RAN-KANKE", "--unit-type", "block", "--password", "long-enough-1"],
    )  # fmt: skip

    assert result.exit_code == 1
    assert "unit_id: A volunteer's unit must be a booth, not a block." in result.output
