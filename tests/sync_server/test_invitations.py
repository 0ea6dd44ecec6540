"""Invitations: no organization can set, learn or take over an account (issue 10's attacks).

Each ``test_attack_*`` replays one attack of the issue against the API on both stores; each
failed against the code before invitations (an administrator then created accounts with a
password of their choosing and added existing accounts at once).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from common.ids import new_id
from common.schema import AppUser, Invitation
from common.schema.types import utcnow
from tests.sync_server.conftest import PASSWORD, World, mutation
from tests.sync_server.inviting import accept, invitation_token, invite

NEW_CFO = "new.cfo@globex.test"


def _members(world: World, org_id: str, admin: str) -> dict[str, list[str]]:
    listed = world.client.get(f"/api/v1/orgs/{org_id}/members", headers=world.headers(admin)).get_json()
    return {m["email"]: m["roles"] for m in listed["members"]}


def _events(world: World, org_id: str, auditor: str, **query: Any) -> list[dict[str, Any]]:
    response = world.client.get(
        f"/api/v1/orgs/{org_id}/audit", query_string=query, headers=world.headers(auditor)
    )
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["events"])


def _same_shape(body: dict[str, Any]) -> dict[str, Any]:
    """An invitation answer with what differs per invitation (ids, times, token, address) blanked."""
    invitation = {
        k: ("…" if k in {"id", "created_at", "expires_at", "email"} else v)
        for k, v in body["invitation"].items()
    }
    return {**body, "invitation": invitation, "token": "…" if "token" in body else None}


def test_attack_an_administrator_can_no_longer_choose_a_password(world: World) -> None:
    response = invite(world, world.a, NEW_CFO, [])
    assert response.status_code == 201
    for extra in ({"password": "attacker-knows-this-1"}, {"name": "x"}):
        sneaky = world.client.post(
            f"/api/v1/orgs/{world.a.id}/members",
            json={"email": "other@globex.test", "roles": [], **extra},
            headers=world.headers("admin@acme.test"),
        )
        assert sneaky.status_code == 400, sneaky.get_json()
        assert sneaky.get_json()["error"]["details"]["field"] in extra
    with world.services.store.session() as session:
        assert session.execute(select(AppUser.id).where(AppUser.email == NEW_CFO)).first() is None


def test_attack_the_cross_tenant_hijack_is_closed(world: World) -> None:
    """Acme's admin invites a Globex address and uses the link himself; Globex then invites the
    same address. The attacker never gets into Globex: Globex's invitation is Globex's."""
    token = invitation_token(world, world.a, NEW_CFO, [])
    squatted = accept(world, token, password="attacker-knows-this-1", name="x")
    assert squatted.status_code == 200  # the holder of Acme's link chose an account for the address
    assert (
        world.client.delete(
            f"/api/v1/orgs/{world.a.id}/members/{_user_id(world, NEW_CFO)}",
            headers=world.headers("admin@acme.test"),
        ).status_code
        == 204
    )
    globex = invite(world, world.b, NEW_CFO, ["accountant", "hr"])
    assert globex.status_code == 201
    attacker = world.login(NEW_CFO, "attacker-knows-this-1")
    assert attacker["memberships"] == []  # nothing joined until Globex's own link is used
    headers = {"Authorization": f"Bearer {attacker['access_token']}"}
    pulled = world.client.get(f"/api/v1/orgs/{world.b.id}/sync/pull", headers=headers)
    assert pulled.status_code == 404
    # Globex's link needs the account's password: only its holder and the account's owner together.
    wrong = accept(world, globex.get_json()["token"], password="globex chose this one")
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "invalid_credentials"
    assert NEW_CFO not in _members(world, world.b.id, "admin@globex.test")


def test_attack_an_existing_account_is_never_added_without_its_owner(world: World) -> None:
    token = invitation_token(world, world.a, "sales@globex.test", ["auditor"])
    assert "sales@globex.test" not in _members(world, world.a.id, "admin@acme.test")
    assert [m["org_name"] for m in world.login("sales@globex.test")["memberships"]] == ["Globex"]
    # Its owner accepts with their own password: now a member, password unchanged.
    accepted = accept(world, token, password=PASSWORD)
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json() == {
        "org_id": world.a.id,
        "org_name": "Acme",
        "email": "sales@globex.test",
        "roles": ["auditor"],
    }
    assert {m["org_name"]: m["roles"] for m in world.login("sales@globex.test")["memberships"]} == {
        "Acme": ["auditor"],
        "Globex": ["sales"],
    }


def test_attack_inviting_tells_nothing_about_accounts_elsewhere(world: World) -> None:
    """The answer for an address with an account (on Globex) and for one without is the same."""
    known = invite(world, world.a, "hr@globex.test", ["sales"])
    unknown = invite(world, world.a, "nobody.yet@globex.test", ["sales"])
    assert known.status_code == unknown.status_code == 201
    assert _same_shape(known.get_json()) == _same_shape(unknown.get_json())
    assert "globex" not in repr(_same_shape(known.get_json())).lower()
    assert known.get_json()["invitation"]["status"] == "pending"
    # Nothing about the account is shown anywhere to Acme: not in members, not in invitations.
    listed = world.client.get(
        f"/api/v1/orgs/{world.a.id}/invitations", headers=world.headers("admin@acme.test")
    )
    rows = {i["email"]: i for i in listed.get_json()["invitations"]}
    assert set(rows["hr@globex.test"]) == set(rows["nobody.yet@globex.test"])
    assert "hr Globex" not in listed.get_data(as_text=True)


def _user_id(world: World, email: str) -> str:
    with world.services.store.session() as session:
        return str(session.execute(select(AppUser.id).where(AppUser.email == email)).scalar_one())


def test_a_new_address_chooses_its_own_name_and_password(world: World) -> None:
    token = invitation_token(world, world.a, " New.Person@Acme.test ", ["sales"])
    preview = world.client.post("/api/v1/invitations/preview", json={"token": token})
    assert preview.status_code == 200
    assert {k: preview.get_json()[k] for k in ("org_name", "email")} == {
        "org_name": "Acme",
        "email": "new.person@acme.test",
    }
    short = accept(world, token, password="short", name="New Person")
    assert short.status_code == 400 and short.get_json()["error"]["details"]["field"] == "password"
    # Without a name the password is taken as an existing account's: the address has none.
    nameless = accept(world, token, password="a fine password")
    assert nameless.status_code == 401 and nameless.get_json()["error"]["code"] == "invalid_credentials"
    accepted = accept(world, token, password="a fine password", name="New Person")
    assert accepted.status_code == 200, accepted.get_json()
    signed_in = world.login("new.person@acme.test", "a fine password")
    assert signed_in["user"]["name"] == "New Person"
    assert [(m["org_name"], m["roles"]) for m in signed_in["memberships"]] == [("Acme", ["sales"])]
    [event] = _events(world, world.a.id, "auditor@acme.test", action="invitation.accept")
    assert event["actor"] == signed_in["user"]["id"] and event["after"]["roles"] == ["sales"]
    assert event["after"]["new_account"] is True and "a fine password" not in repr(event)
    [invited] = _events(world, world.a.id, "auditor@acme.test", action="admin.invite")
    assert invited["actor"] == world.a.users["admin"] and invited["after"]["email"] == "new.person@acme.test"


def test_an_invitation_is_single_use_revocable_and_expires(world: World) -> None:
    token = invitation_token(world, world.a, "sales@globex.test", ["employee"])
    assert accept(world, token, password=PASSWORD).status_code == 200
    again = accept(world, token, password=PASSWORD)
    assert again.status_code == 404 and again.get_json()["error"]["code"] == "invitation_not_valid"

    revoked_token = invitation_token(world, world.a, "hr@globex.test", ["employee"])
    [pending] = world.client.get(
        f"/api/v1/orgs/{world.a.id}/invitations", headers=world.headers("admin@acme.test")
    ).get_json()["invitations"]
    assert pending["email"] == "hr@globex.test" and pending["status"] == "pending"
    path = f"/api/v1/orgs/{world.a.id}/invitations/{pending['id']}"
    assert world.client.delete(path, headers=world.headers("hr@acme.test")).status_code == 403
    assert world.client.delete(path, headers=world.headers("admin@globex.test")).status_code == 404
    assert world.client.delete(path, headers=world.headers("admin@acme.test")).status_code == 204
    assert world.client.delete(path, headers=world.headers("admin@acme.test")).status_code == 404
    assert accept(world, revoked_token, password=PASSWORD).status_code == 404
    assert world.client.post("/api/v1/invitations/preview", json={"token": revoked_token}).status_code == 404

    expiring = invitation_token(world, world.a, "auditor@globex.test", ["employee"])
    with world.services.store.session(world.a.id, write=True) as session:
        session.execute(
            update(Invitation)
            .where(Invitation.email == "auditor@globex.test")
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert accept(world, expiring, password=PASSWORD).status_code == 404
    listed = world.client.get(
        f"/api/v1/orgs/{world.a.id}/invitations", headers=world.headers("admin@acme.test")
    )
    assert [(i["email"], i["status"]) for i in listed.get_json()["invitations"]] == [
        ("auditor@globex.test", "expired")
    ]
    assert "auditor@globex.test" not in _members(world, world.a.id, "admin@acme.test")


def test_inviting_again_replaces_the_pending_link(world: World) -> None:
    first = invitation_token(world, world.a, "sales@globex.test", ["employee"])
    second = invitation_token(world, world.a, "sales@globex.test", ["auditor"])
    assert accept(world, first, password=PASSWORD).status_code == 404
    assert accept(world, second, password=PASSWORD).get_json()["roles"] == ["auditor"]
    member = invite(world, world.a, "sales@globex.test", [])
    assert member.status_code == 409 and member.get_json()["error"]["code"] == "already_member"


def test_accepting_while_signed_in_as_the_invited_account(world: World) -> None:
    token = invitation_token(world, world.a, "warehouse@globex.test", ["warehouse"])
    other = accept(world, token, headers=world.headers("hr@globex.test"))
    assert other.status_code == 403 and other.get_json()["error"]["code"] == "wrong_account"
    mine = accept(world, token, headers=world.headers("warehouse@globex.test"))
    assert mine.status_code == 200, mine.get_json()
    bad = accept(
        world,
        invitation_token(world, world.a, "sales@globex.test", []),
        headers={"Authorization": "Bearer nope"},
    )
    assert bad.status_code == 401


def test_bad_tokens_and_guesses_tell_nothing(world: World) -> None:
    real = invitation_token(world, world.a, "sales@globex.test", [])
    org, secret = real.split(".")[1], real.split(".")[2]
    for token in (
        "x",
        "inv.not-a-uuid." + "a" * 43,
        f"inv.{world.b.id}.{secret}",
        f"inv.{org}.{'b' * 43}",
        real + "x",
    ):
        for path in ("/api/v1/invitations/accept", "/api/v1/invitations/preview"):
            body = {"token": token, "password": PASSWORD} if path.endswith("accept") else {"token": token}
            answer = world.client.post(path, json=body)
            assert answer.status_code == 404, (token, answer.get_json())
            assert answer.get_json()["error"]["code"] == "invitation_not_valid"
    missing = accept(world, real)
    assert missing.status_code == 400 and missing.get_json()["error"]["details"]["field"] == "password"


def test_wrong_passwords_at_acceptance_count_as_failed_sign_ins(world: World) -> None:
    token = invitation_token(world, world.a, "hr@globex.test", [])
    answers = [accept(world, token, password=f"guess number {n}").status_code for n in range(7)]
    assert answers[:5] == [401] * 5 and answers[5:] == [429, 429]
    assert (
        world.client.post(
            "/api/v1/auth/login", json={"email": "hr@globex.test", "password": PASSWORD}
        ).status_code
        == 429
    )  # the same per-account limit as sign-in
    failed = _events(world, world.b.id, "auditor@globex.test", action="auth.login_failed")
    assert len(failed) == 5 and all(e["after"]["reason"] == "wrong_password" for e in failed)


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("Eve\u202eevil", "name"),
        ("Zero\u200bWidth", "name"),
        ("Soft\u00adhyphen", "name"),
        ("Line\u2028break", "name"),
    ],
    ids=["bidi-override", "zero-width", "soft-hyphen", "line-separator"],
)
def test_names_with_invisible_characters_are_refused(world: World, name: str, field: str) -> None:
    token = invitation_token(world, world.a, "newbie@acme.test", [])
    refused = accept(world, token, password="a fine password", name=name)
    assert refused.status_code == 400 and refused.get_json()["error"]["details"]["field"] == field
    assert "U+" in refused.get_json()["error"]["message"]


def test_names_are_stored_composed(world: World) -> None:
    token = invitation_token(world, world.a, "rene@acme.test", [])
    assert accept(world, token, password="a fine password", name="Rene\u0301 Dupont").status_code == 200
    assert world.login("rene@acme.test", "a fine password")["user"]["name"] == "Ren\u00e9 Dupont"
    bidi = invite(world, world.a, "moc.elgoog\u202e@acme.test", [])
    assert bidi.status_code == 400 and bidi.get_json()["error"]["details"]["field"] == "email"


def test_command_names_and_emails_refuse_format_characters_and_are_composed(world: World) -> None:
    """The same rule everywhere names and e-mail addresses enter: command args too."""
    bad = [
        mutation("sales.create_customer", id=new_id(), name="Acme\u202eCorp"),
        mutation("sales.create_customer", id=new_id(), name="Zero\u200dJoiner"),
        mutation("sales.create_customer", id=new_id(), name="Ok", email="bob\u200b@acme.test"),
    ]
    good_id = new_id()
    good = mutation("sales.create_customer", id=good_id, name="Cafe\u0301 Ltd")
    results = world.push("sales@acme.test", world.a, [*bad, good]).get_json()["results"]
    assert [(r["status"], r.get("details", {}).get("field")) for r in results] == [
        ("rejected", "name"),
        ("rejected", "name"),
        ("rejected", "email"),
        ("applied", None),
    ]
    pulled = world.client.get(
        f"/api/v1/orgs/{world.a.id}/sync/pull", headers=world.headers("sales@acme.test")
    )
    names = [c["data"]["name"] for c in pulled.get_json()["changes"] if c["id"] == good_id]
    assert names == ["Caf\u00e9 Ltd"]
