"""Lab 14, queues and rate limits: a burst beyond the servers' maxconn waits in HAProxy's
queue, and what waits past `timeout queue` gets a 503; a client over its rate gets 429s
while quiet ones do not, until its rate has fallen.

The burst's waits and the rate's fall are timed, and their margins are derived beside
them; the counts are exact."""

from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)
from labkit.checks import test_the_runtime_api_answers_this_machine_only  # noqa: F401
from labkit.labs import find_lab

SETTINGS = find_lab(14).manifest["demo"]


def test_a_burst_beyond_maxconn_waits_in_the_queue_and_past_timeout_queue_gets_a_503(demo_run):
    burst = demo_run.measured["burst"]
    hold = SETTINGS["hold"]
    # 15 requests arrive at once (within a few tens of ms) for three servers that take two
    # each: 6 are served at once, 9 queue. Each holds its server `hold` = 1 s, so the next
    # six wait 1 s and are served, and the last three would wait 2 s: past `timeout queue`
    # (1.5 s), HAProxy answers them 503. The margins, 0.5 s either side of 1.5 s, absorb
    # arrivals spread over up to half a second.
    # qmax is 9 once all have arrived; half a second in (qcur), on a busy machine some may
    # still be on their way.
    assert burst["qmax"] == 9 and 0 < burst["qcur"] <= 9, burst
    served = sorted(seconds for status, seconds in burst["answers"] if status == 200)
    refused = [(status, seconds) for status, seconds in burst["answers"] if status != 200]
    assert len(served) == 12 and len(refused) == 3, burst["answers"]
    assert all(status == 503 for status, _ in refused)
    # When, on each request's own clock: the first six after one hold; the next six after
    # two holds from the first arrivals, less how much later they left (under half a
    # second, as above); the refused after their 1.5 s in the queue. A busy machine adds.
    assert all(hold <= s < 1.5 * hold for s in served[:6]), served
    assert all(2 * hold - 0.5 <= s < 2.5 * hold for s in served[6:]), served
    assert all(1.5 <= seconds < 2 * hold for _, seconds in refused), refused
    # HAProxy's log names them: ended while queued (termination state sQ).
    assert burst["queue_timeouts"] == 3


def test_the_noisy_client_gets_429s_past_its_limit_and_the_quiet_ones_none(demo_run):
    rate = demo_run.measured["rate"]
    # The 21st request in 10 s is the first over `gt 20`, and every later one is refused
    # too: a refused request is counted as well. (The 30 fall in one of HAProxy's 10 s
    # periods, which begins with the first of them: see the next test.)
    assert rate["answers"][rate["noisy"]] == [200] * 20 + [429] * (SETTINGS["noisy"] - 20)
    for address, statuses in rate["answers"].items():
        if address != rate["noisy"]:
            assert statuses == [200] * SETTINGS["quiet"], address
    # HAProxy's counter of denied requests agrees, and its table counted every request.
    assert rate["denied"] == SETTINGS["noisy"] - 20
    assert rate["rates"] == {address: len(statuses) for address, statuses in rate["answers"].items()}


def test_the_noisy_client_is_let_in_again_once_its_rate_has_fallen(demo_run):
    rate = demo_run.measured["rate"]
    assert rate["again"] == 200
    # HAProxy counts an address's requests in 10 s periods; one seen for the first time (or
    # after two idle periods) starts a period with its first request. The rate is the
    # current period's count plus the last one's, weighted by how much of it is still
    # within the last 10 s: the 30 count in full for 10 s, then fade, and fall below 20 once
    # a third of the next period has passed: 13.3 s after the first request. The clock
    # starts before that request is sent (under Docker, before the client's exec), and
    # the first request had left once the 30 were answered (noisy_took); add the polling
    # of `show table` every 0.25 s and its answer: a second.
    assert 13.3 <= rate["waited"] < 13.3 + rate["noisy_took"] + 1, rate
