"""kefu — what the python unit tests share: record each check, sum up at the end."""
import subprocess
import sys

FAILURES = []


def expect(cond, what):
    """Prints the check; records a failure unless cond holds."""
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILURES.append(what)


def finish():
    """Prints how many checks failed; the exit status: 1 when one did."""
    print("%d failed" % len(FAILURES))
    return 1 if FAILURES else 0


def run_python(*args):
    """Runs a python script with this interpreter: (exit status, stdout, stderr)."""
    p = subprocess.run([sys.executable] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr
