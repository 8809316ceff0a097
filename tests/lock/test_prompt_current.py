"""Issue 15 item 17: the lock's last prompts are those of the current wake; a new wake starts silent, so the
panel never shows an old "Pairing ended" when the keypad is touched again."""

from __future__ import annotations

from tests.lock.conftest import wake
from vakt.lock import Lock, ManualClock, Prompt


def test_pairing_ended_is_not_shown_again_at_the_next_wake(lock: Lock, clock: ManualClock) -> None:
    lock.hold_reset(3)
    assert lock.state().pairing_mode
    clock.advance(301)  # past any menu timeout (L3.2: at most 300 s)
    out = lock.tick()  # the menu timeout closes pairing and the keypad sleeps
    assert Prompt.PAIRING_ENDED in out.prompts and not lock.state().pairing_mode
    assert lock.state().last_prompts == [Prompt.PAIRING_ENDED]
    wake(lock)
    assert lock.state().last_prompts == [], "a prompt of an earlier wake shown as if just said"
    lock.hold_reset(3)  # prompts said during this wake are current
    assert lock.state().last_prompts[-1] == Prompt.PAIRING
