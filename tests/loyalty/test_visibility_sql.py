"""The hot paths' plain-SQL lookups of loyalty show exactly what the ORM
selectors show, for every kind of caller: a program by code
(``program_visible_by_code`` against ``programs_visible_to``) and the member
of a card (``member_of_card`` against ``_members_by_card``), each built as
the ORM builds it (every field)."""

import pytest

from loyalty.models import Member, Program
from loyalty.selectors import _members_by_card, member_of_card, program_visible_by_code, programs_visible_to
from partners.callers import Caller
from partners.models import CallerKind
from tests.factories import UserFactory, make_client
from tests.loyalty.factories import MemberFactory, ProgramFactory

pytestmark = pytest.mark.django_db

KINDS = [k for k, _label in CallerKind.choices]


def _same_instance(found: Program | Member | None, stored: Program | Member, model: type[Program | Member]) -> None:
    assert found is not None
    assert type(found) is model
    for field in model._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(stored, field.attname), field.name
    assert found._state.adding is False
    assert found._state.db == "default"


@pytest.mark.parametrize("kind", KINDS)
def test_the_plain_program_lookup_sees_what_the_selector_sees(kind):
    programs = [
        ProgramFactory.create(code="live"),
        ProgramFactory.create(code="closed", is_active=False),
        ProgramFactory.create(code="other-live", currency="USD", time_zone="America/New_York"),
    ]
    caller = Caller(client=make_client(kind), scopes=frozenset())
    expected = set(programs_visible_to(caller=caller).values_list("code", flat=True))
    seen = {p.code for p in programs if program_visible_by_code(caller=caller, code=p.code) is not None}
    assert seen == expected
    assert ("closed" in seen) == (kind == CallerKind.OPERATOR)
    assert program_visible_by_code(caller=caller, code="nowhere") is None
    for code in seen:
        _same_instance(program_visible_by_code(caller=caller, code=code), Program.objects.get(code=code), Program)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("signed_in", [True, False])
def test_the_plain_member_lookup_sees_what_the_selector_sees(kind, signed_in):
    user, someone = UserFactory.create(), UserFactory.create()
    live, closed = ProgramFactory.create(), ProgramFactory.create(is_active=False)
    members = [
        MemberFactory.create(program=live, user=user),
        MemberFactory.create(program=closed, user=user, points_active=40, points_debt=3),
        MemberFactory.create(program=live, user=someone),
        MemberFactory.create(program=live, user=None, is_active=False, points_pending=7),
    ]
    caller = Caller(client=make_client(kind), scopes=frozenset(), user_id=user.pk if signed_in else None)
    for member in members:
        expected = _members_by_card(caller=caller, card_number=member.card_number).first()
        found = member_of_card(caller=caller, card_number=member.card_number)
        assert (found is None) == (expected is None), (member.card_number, kind)
        if expected is not None:
            _same_instance(found, expected, Member)
    assert member_of_card(caller=caller, card_number="0000000000000") is None
    shown = {m.card_number for m in members if member_of_card(caller=caller, card_number=m.card_number)}
    if kind in (CallerKind.OPERATOR, CallerKind.STORE):
        assert len(shown) == len(members)
    elif kind == CallerKind.SHOPPER and signed_in:
        assert shown == {members[0].card_number, members[1].card_number}
    else:
        assert not shown
