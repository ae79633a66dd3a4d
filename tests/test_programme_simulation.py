"""A whole programme, simulated end to end with scripted participants (bench/simulation.py), at
a small size: what matters comes out right. Not timed — the benchmark measures speed."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bench.simulation import Simulation, SimulationSettings

PHASES = ("intake", "matching", "guide and meetings", "closing")


async def test_a_small_programme_runs_from_intake_to_certificates(database_url: str):
    settings = SimulationSettings(
        pairs=6,
        stall_fraction=0,
        drop_fraction=0,
        fit_failure_fraction=0,
        mentees_per_mentor=3,
        end=date(2026, 12, 15),
    )
    sim = Simulation(database_url, settings)
    sim.people["mentee00000"].fails_fit = True  # says the first match doesn't work
    stall_from = datetime(2026, 9, 20, 9, tzinfo=sim.clock.now().tzinfo)
    sim.people["mentee00001"].stall = (stall_from, stall_from + timedelta(days=45))
    sim.people["mentee00002"].drops_at = stall_from + timedelta(days=30)
    try:
        for phase, step in zip(
            PHASES, (sim.intake, sim.matching, sim.programme, sim.closing), strict=True
        ):
            sim.phase = phase
            await step()
        report = sim.report()
    finally:
        await sim.close()

    assert not report.errors, report.errors
    assert not report.refused, report.refused  # every scripted answer was taken
    assert not report.left_open, report.left_open  # no conversation stuck at the end
    # the fit check and the stall ended two pairs, and the mentees were matched again
    assert report.ended_early >= 2 and report.pairs >= 8
    assert report.running >= 4 and report.under_three == 0 and report.held_min >= 3
    # the first `match`, and one review with its approval a week at most: far under the bound
    assert report.commands["match"] >= 2 and report.command_total <= 12, report.commands
    mentors_left = settings.mentors - sum(
        1 for p in sim.people.values() if p.role == "mentor" and p.drops_at is not None
    )
    assert report.certificates == mentors_left
    assert all(report.messages[phase] for phase in PHASES)
