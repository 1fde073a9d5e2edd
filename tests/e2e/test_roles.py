"""The app shows reviewer screens from the server's role lists (`/api/me` role_lists), kept
on the phone: the Connect Centre reviews rosters too, a volunteer does not, offline as well."""

from playwright.sync_api import expect

from tests.e2e.harness import VOLUNTEER

CONNECT_CENTRE = "9000000003"


def approvals_tab(phone):
    return phone.page.locator("nav").get_by_role("link", name="मंज़ूरी")


def test_connect_centre_sees_approvals_and_a_volunteer_does_not_even_offline(phones):
    centre, volunteer = phones(), phones()
    centre.login(CONNECT_CENTRE)
    volunteer.login(VOLUNTEER)
    for phone, shown in ((centre, 1), (volunteer, 0)):
        expect(approvals_tab(phone)).to_have_count(shown)
        phone.offline()
        phone.page.reload()
        phone.page.wait_for_selector("main")
        expect(approvals_tab(phone)).to_have_count(shown)
    centre.go("/approvals")
    expect(centre.page.locator("main h1")).to_have_text("मंज़ूरी")
    assert centre.errors == [] and volunteer.errors == []
