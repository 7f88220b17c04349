"""What running a check_cmd or reload_cmd costs confpy, beside what the command itself takes.

``run_command`` starts the shell in a session of its own and reads its output with
``poll`` (to honour a timeout, and to stop at the shell's exit when something it left
behind holds the output open). The reference is ``subprocess.run`` with captured output,
how confpy ran commands before. Medians over ``--rounds`` runs of each command, and the
time a timed-out command takes to be stopped (timeout, then SIGTERM).

    .venv/bin/python benchmarks/commands.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

from confpy.commands import CommandTimedOut, run_command

COMMANDS = {
    "true": "true",
    "64 KiB of output": "head -c 65536 /dev/zero",
    "1 MiB of output": "head -c 1048576 /dev/zero",
    "a pipeline": "echo a | cat | cat",
}


def median_ms(fn: object, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def reference(cmd: str) -> None:
    subprocess.run(["/bin/sh", "-c", cmd], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    rounds = parser.parse_args().rounds
    print(f"{'command':<20} {'run_command':>12} {'+ timeout':>12} {'subprocess.run':>15}   (median ms, {rounds} runs)")
    for label, cmd in COMMANDS.items():
        plain = median_ms(lambda cmd=cmd: run_command(cmd), rounds)
        bounded = median_ms(lambda cmd=cmd: run_command(cmd, 30.0), rounds)
        ref = median_ms(lambda cmd=cmd: reference(cmd), rounds)
        print(f"{label:<20} {plain:>12.2f} {bounded:>12.2f} {ref:>15.2f}")
    started = time.perf_counter()
    try:
        run_command("sleep 60", 0.5)
    except CommandTimedOut:
        pass
    print(f"sleep 60 with a 500ms timeout: stopped after {time.perf_counter() - started:.3f} s")


if __name__ == "__main__":
    main()
