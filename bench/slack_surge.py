"""A programme's kick-off on Slack: hundreds of people write at once, within Slack's limits.

    python -m bench.slack_surge [--people 300] [--turns 3] [--ramp 30] [--think 0]
                                [--ceiling 50] [--poll-people 1000] [--intake-people 100]
                                [--channel-rate 1] [--channel-burst 3] [--rounds 3]
                                [--cases surge,at-once,ceiling,bulk]

A fake Slack Web API that enforces Slack's message limits (tests/slack/limited_fake.py: one
message per second per channel with bursts of `--channel-burst`, and where a case says so a
workspace ceiling of `--ceiling` messages in any second; beyond them 429 with Retry-After) runs
on 127.0.0.1 in this process, beside simulated people (bench/slack_crowd.py). Each person posts
signed Slack HTTP events into the system under test and answers each reply as it arrives
(closed loop, after `--think` seconds). Reply latency is what the person feels: from the
moment their event leaves to the moment the first message of the reply reaches the fake.

The systems under test each run in their own process: `maatje run` itself (SQLite, with the
adapter's own pacing, as deployed) and a bare slack-bolt echo app, which posts each event's
text back once (with slack-sdk's defaults: a 429 is an error, and that reply is lost). Before
each measured crowd, a few people warm the system up, then `--one-by-one` people go through
the same turns one after another: the reply latency with nobody else writing.

The echo/bot ratio is measured in `--rounds` alternated pairs (echo then bot, then bot then
echo, ...), each system on a fresh database every round, and judged on the median round: on
this noisy 2-core machine the same code's CPU per event drifts by a third within minutes, so
one echo-then-bot pair reads the drift and the order as much as the difference.

Cases:
- surge: `--people` people start at random moments within `--ramp` seconds; each says hello
  and answers the intake's first questions: `--turns` events, one reply each. In rounds.
- at-once: the same, but everyone starts at the same moment (`--ramp 0`): the issue's own
  measurement, in which the bare echo answered at p95 0.54 s. In rounds.
- ceiling: the surge with the workspace ceiling. Bare echo first.
- bulk: `--poll-people` participants who finished intake (written into the database before the
  bot starts) are sent a poll by a coordinator (`/maatje poll send midterm to mentees`: an
  introduction and the first question each), while `--intake-people` new people go through the
  intake as in the surge, starting within `--intake-ramp` seconds of the poll, `--intake-think`
  seconds between their answers. Workspace ceiling as in `ceiling`.

Targets (issue 15): surge p95 <= 1 s and <= 2x the bare echo's p95 (the median round's), none
lost or posted twice in any round;
with the ceiling everything delivered, p95 no worse than the ceiling implies (a queue served at
the ceiling, given the same arrivals, plus the surge case's own median p95), at most 1 % of calls
refused after the first second of backoff; bulk: intake p95 <= 1.5 s, the poll delivered at
>= 90 % of what the ceiling left it (the ceiling less the intake's messages).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.common import percentile, print_machine, verdict
from bench.slack_crowd import Crowd, Driver, System, seed_participants
from bench.slack_http import PATH
from tests.slack.limited_fake import LimitedSlack

COORDINATOR = "UCOORD"  # a coordinator in bench.slack_http's configuration
POLL_KEY = "msg:poll-invite:"
LATENCY_TARGET, RATIO_TARGET, REFUSED_TARGET = 1.0, 2.0, 0.01
INTAKE_TARGET, POLL_SHARE_TARGET = 1.5, 0.90


@dataclass
class Result:
    name: str
    crowd: Crowd
    alone: Crowd
    accepted: list[tuple[float, str, str | None]]  # the fake's, as in LimitedSlack
    refused: list[tuple[float, str, str]]
    duplicates: int
    began: float
    ended: float
    server_cpu: float

    def p95(self) -> float:
        return percentile(self.crowd.latencies, 0.95)


# -- the cases ---------------------------------------------------------------------------


async def warm_up(driver: Driver, fake: LimitedSlack, args: argparse.Namespace) -> Crowd:
    """A few people's turns, not counted; then people one by one (returned); then a quiet
    moment, so that the fake's limits and the bot's view of them start from an empty second.

    Last, everything this process holds by now (earlier cases' results, the modules it
    loaded) is frozen out of Python's collector: the fake Slack time-stamps a message when
    this process's event loop reads it, and a full collection walking all that stops the loop
    for tens of milliseconds, after which the messages that arrived meanwhile are stamped in
    the same millisecond — a bunching the platform never saw, which its ceiling refuses."""
    await driver.crowd("W", 5, args.turns, 0.5, 0, seed=1)
    alone = await driver.one_by_one("A", args.one_by_one, args.turns)
    await asyncio.sleep(2.0)
    fake.reset()
    gc.collect()
    gc.freeze()
    return alone


async def surge(fake: LimitedSlack, tmp: Path, name: str, args: argparse.Namespace) -> Result:
    bare = name.startswith("bare")
    system = System(fake, tmp, name, bare)
    async with system, Driver(fake, system.url + PATH, not bare, args.reply_timeout) as driver:
        alone = await warm_up(driver, fake, args)
        cpu = system.cpu()
        began = time.perf_counter()
        crowd = await driver.crowd("S", args.people, args.turns, args.ramp, args.think, seed=2)
        ended = time.perf_counter()
        cpu = system.cpu() - cpu
    return outcome(name, system, fake, crowd, alone, began, ended, cpu)


async def alternated(
    fake: LimitedSlack, tmp: Path, case: str, args: argparse.Namespace
) -> list[tuple[Result, Result]]:
    """`--rounds` rounds of the bare echo and the full bot, each round's pair measured one
    right after the other and in turn the echo or the bot first, so that the machine's drift
    over minutes falls on both; each round's systems start on fresh databases. Each result is
    shown as it comes; returns (bare, full) per round."""
    rounds = []
    for number in range(1, args.rounds + 1):
        suffix = f"{case}, round {number}" if args.rounds > 1 else case
        echo_first = number % 2 == 1
        results: dict[bool, Result] = {}  # by `bare`
        for bare in (True, False) if echo_first else (False, True):
            name = "bare echo" if bare else "full bot"
            results[bare] = await surge(fake, tmp, name + suffix, args)
            show(results[bare], bare=bare)
        rounds.append((results[True], results[False]))
    return rounds


async def bulk(fake: LimitedSlack, tmp: Path, args: argparse.Namespace) -> Result:
    """The poll and the intake together; `ended` is when the poll's last message arrived."""
    system = System(fake, tmp, "full bot: poll + intake", bare=False)
    await asyncio.to_thread(seed_participants, system, args.poll_people)
    async with system, Driver(fake, system.url + PATH, True, args.reply_timeout) as driver:
        alone = await warm_up(driver, fake, args)
        cpu = system.cpu()
        began = time.perf_counter()
        await driver.command(COORDINATOR, "poll send midterm to mentees")
        intake = asyncio.create_task(
            driver.crowd(
                "I", args.intake_people, args.turns, args.intake_ramp, args.intake_think, seed=3
            )
        )
        with contextlib.suppress(TimeoutError):  # a poll not delivered in time shows as such
            await asyncio.wait_for(
                fake.wait_for_keys(POLL_KEY, 2 * args.poll_people), args.poll_timeout
            )
        crowd = await intake
        cpu = system.cpu() - cpu
    ended = max((t for t, _, key in fake.accepted if is_poll(key)), default=began)
    return outcome(system.name, system, fake, crowd, alone, began, ended, cpu)


def outcome(
    name: str,
    system: System,
    fake: LimitedSlack,
    crowd: Crowd,
    alone: Crowd,
    began: float,
    ended: float,
    cpu: float,
) -> Result:
    if system.errors():
        first = system.error_lines()[0][:160]
        print(f"  ({name}: {system.errors()} errors in its log, the first: {first})")
    accepted, refused = list(fake.accepted), list(fake.refused)
    return Result(name, crowd, alone, accepted, refused, fake.duplicates(), began, ended, cpu)


def is_poll(key: str | None) -> bool:
    return bool(key and key.startswith(POLL_KEY))


# -- figures -------------------------------------------------------------------------------


def implied_latencies(sent: list[float], ceiling: float) -> list[float]:
    """The latencies of a queue served at exactly `ceiling` replies a second, one reply per
    event, with these arrivals: what the ceiling alone costs."""
    latencies, free_at = [], 0.0
    for arrival in sorted(sent):
        leaves = max(arrival, free_at)
        free_at = leaves + 1.0 / ceiling
        latencies.append(leaves - arrival)
    return latencies


def refused_after_learning(result: Result) -> tuple[int, int]:
    """429s more than a second after the first one, and all calls in that time."""
    if not result.refused:
        return 0, len(result.accepted)
    after = result.refused[0][0] + 1.0
    refused = sum(1 for t, _, _ in result.refused if t > after)
    return refused, refused + sum(1 for t, _, _ in result.accepted if t > after)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def show(result: Result, bare: bool) -> None:
    crowd, span = result.crowd, result.ended - result.began
    events = max(len(crowd.sent), 1)
    print(
        f"  [{result.name}] {len(crowd.sent)} events, {len(result.accepted)} messages posted in "
        f"{span:.1f} s; server CPU {result.server_cpu / events * 1000:.1f} ms per event "
        f"({result.server_cpu / span:.0%} of a core)"
    )
    lat = crowd.latencies
    print(
        f"    reply latency p50 {ms(percentile(lat, 0.5))}, p95 {ms(percentile(lat, 0.95))}, "
        f"max {ms(max(lat, default=0))}; one by one, nobody else writing: p50 "
        f"{ms(percentile(result.alone.latencies, 0.5))}, "
        f"p95 {ms(percentile(result.alone.latencies, 0.95))}"
    )
    by_reason = Counter(why for _, _, why in result.refused)
    late, calls = refused_after_learning(result)
    print(
        f"    429s: {len(result.refused)} ({by_reason['channel']} channel, "
        f"{by_reason['workspace']} workspace); after the first second of backoff {late} of "
        f"{calls} calls ({late / max(calls, 1):.1%})"
    )
    duplicates = "n/a (no keys)" if bare else str(result.duplicates)
    print(f"    replies lost {crowd.lost}, posted twice {duplicates}")


def report_surge(rounds: list[tuple[Result, Result]]) -> bool:
    """The targets over all rounds: the median round's p95 and ratio to the echo (each
    round's ratio of its own pair), nothing lost or posted twice in any round."""
    p95s = [full.p95() for _, full in rounds]
    ratios = [full.p95() / bare.p95() for bare, full in rounds]
    alone = [
        percentile(full.alone.latencies, 0.95) / percentile(bare.alone.latencies, 0.95)
        for bare, full in rounds
    ]
    p95, ratio = statistics.median(p95s), statistics.median(ratios)
    fast, close = p95 <= LATENCY_TARGET, ratio <= RATIO_TARGET
    lost = sum(full.crowd.lost for _, full in rounds)
    twice = sum(full.duplicates for _, full in rounds)
    whole = lost == 0 and twice == 0
    if len(rounds) > 1:
        print(
            f"  {len(rounds)} rounds: full p95 {', '.join(ms(p) for p in p95s)}; "
            f"{', '.join(f'{r:.2f}' for r in ratios)}x the bare echo's p95"
        )
    median = "median " if len(rounds) > 1 else ""
    print(
        f"  full p95 {median}{ms(p95)} [target <= {LATENCY_TARGET:g} s: {verdict(fast)}]; "
        f"{median}{ratio:.2f}x the bare echo's p95 [target <= {RATIO_TARGET:g}x: "
        f"{verdict(close)}] (one by one {statistics.median(alone):.1f}x); lost {lost}, twice "
        f"{twice} [target none: {verdict(whole)}]"
    )
    return fast and close and whole


def report_ceiling(full: Result, ceiling: float, surge_p95: float | None) -> bool:
    implied = percentile(implied_latencies(full.crowd.sent, ceiling), 0.95)
    allowance = implied + (surge_p95 if surge_p95 is not None else LATENCY_TARGET)
    late, calls = refused_after_learning(full)
    whole = full.crowd.lost == 0 and full.duplicates == 0
    ok = whole and full.p95() <= allowance and late <= REFUSED_TARGET * calls
    print(
        f"  full p95 {ms(full.p95())}; a queue served at the ceiling alone gives p95 "
        f"{ms(implied)}  [target: all delivered, none twice, p95 <= {ms(allowance)}, <= "
        f"{REFUSED_TARGET:.0%} refused after the first second: {verdict(ok)}]"
    )
    return ok


def report_bulk(result: Result, args: argparse.Namespace) -> bool:
    poll = [key for t, _, key in result.accepted if key and is_poll(key)]
    window = result.ended - result.began
    others = sum(1 for t, _, key in result.accepted if t <= result.ended and not is_poll(key))
    left = args.ceiling * window - others
    share = len(poll) / left if left > 0 else float("nan")
    reached = len({key.split(":")[3] for key in poll})
    print(
        f"    poll: {len(poll)} messages to {reached} people in {window:.1f} s: "
        f"{len(poll) / window:.1f}/s; the intake's {others} messages meanwhile; the ceiling "
        f"left the poll {left / window:.1f}/s"
    )
    p95 = result.p95()
    ok = (
        p95 <= INTAKE_TARGET
        and share >= POLL_SHARE_TARGET
        and reached == args.poll_people
        and result.crowd.lost == 0
        and result.duplicates == 0
    )
    print(
        f"  intake p95 {ms(p95)}; the poll used {share:.0%} of what the ceiling left it  "
        f"[target intake p95 <= {INTAKE_TARGET:g} s, poll >= {POLL_SHARE_TARGET:.0%}, "
        f"everyone reached, nothing lost or twice: {verdict(ok)}]"
    )
    return ok


# -- the run -------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> bool:
    print_machine("Kick-off surge on Slack: the full bot and a bare bolt echo, Slack's limits")
    print(
        f"{args.people} people x {args.turns} turns, starting within {args.ramp:g} s, answering "
        f"after {args.think:g} s; the fake allows {args.channel_rate:g} message/s per channel "
        f"(bursts of {args.channel_burst}); ceiling: {args.ceiling:g} messages/s per workspace"
    )
    fake = LimitedSlack(args.channel_rate, args.channel_burst)
    await fake.start()
    verdicts: list[bool] = []
    surge_p95 = None
    try:
        with tempfile.TemporaryDirectory(prefix="maatje-surge-") as tmp_name:
            tmp = Path(tmp_name)
            if "surge" in args.cases:
                print("\n-- surge: no workspace ceiling")
                fake.ceiling = None
                rounds = await alternated(fake, tmp, "", args)
                verdicts.append(report_surge(rounds))
                surge_p95 = statistics.median(full.p95() for _, full in rounds)
            if "at-once" in args.cases:
                print("\n-- at once: everyone writes at the same moment, no workspace ceiling")
                fake.ceiling = None
                at_once = argparse.Namespace(**{**vars(args), "ramp": 0.0})
                verdicts.append(report_surge(await alternated(fake, tmp, ", at once", at_once)))
            if "ceiling" in args.cases:
                print(f"\n-- ceiling: at most {args.ceiling:g} messages/s per workspace")
                fake.ceiling = args.ceiling
                bare = await surge(fake, tmp, "bare echo, ceiling", args)
                full = await surge(fake, tmp, "full bot, ceiling", args)
                show(bare, bare=True)
                show(full, bare=False)
                verdicts.append(report_ceiling(full, args.ceiling, surge_p95))
            if "bulk" in args.cases:
                print(
                    f"\n-- bulk: a poll to {args.poll_people} people while {args.intake_people} "
                    f"go through intake; at most {args.ceiling:g} messages/s per workspace"
                )
                fake.ceiling = args.ceiling
                result = await bulk(fake, tmp, args)
                show(result, bare=False)
                verdicts.append(report_bulk(result, args))
    finally:
        await fake.stop()
    print(f"\nall targets: {verdict(all(verdicts))}")
    return all(verdicts)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slack_surge", description=__doc__)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--turns", type=int, default=3, help="events per person (1 to 5)")
    parser.add_argument("--ramp", type=float, default=30.0, help="seconds in which people start")
    parser.add_argument("--think", type=float, default=0.0, help="seconds before answering")
    parser.add_argument("--ceiling", type=float, default=50.0, help="messages/s per workspace")
    parser.add_argument("--channel-rate", type=float, default=1.0)
    parser.add_argument("--channel-burst", type=int, default=3)
    parser.add_argument("--one-by-one", type=int, default=10, help="people, before each crowd")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternated echo/bot pairs in surge and at-once"
    )
    parser.add_argument("--poll-people", type=int, default=1000)
    parser.add_argument("--intake-people", type=int, default=100)
    parser.add_argument("--intake-ramp", type=float, default=20.0)
    parser.add_argument("--intake-think", type=float, default=1.0)
    parser.add_argument("--reply-timeout", type=float, default=30.0)
    parser.add_argument("--poll-timeout", type=float, default=180.0)
    parser.add_argument(
        "--cases", default="surge,at-once,ceiling,bulk", help="which cases, in order"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be 1 or more")
    args.cases = args.cases.split(",")
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
