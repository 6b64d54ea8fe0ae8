#!/usr/bin/python3
"""Execute a notebook headless through real Jupyter (nbclient) and fail on any sign of trouble.

Usage: /usr/bin/python3 test/helpers/run_notebook.py NOTEBOOK.ipynb [--output EXECUTED.ipynb] [--timeout S]

tslab never sends Jupyter `error` messages: a TypeScript error or an exception only shows as stderr output and an
`error` status in the reply, and an async throw surfaces in a later cell. So besides the reply status this runner
fails on any stderr output, any `error` output, any code cell that produced no output, and any cell tagged `chart`
without a chart output (a vega-lite spec with its PNG). Cells run one at a time; the first failure stops the run, prints the cell's source and what
it wrote to stderr, and exits 1. Run it with /usr/bin/python3 (Debian's python3-nbclient), not a pyenv python.
"""
import argparse
import os
import sys

import nbformat
from nbclient import NotebookClient

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The committed kernelspec lives in notebooks/kernels/tslab; Jupyter finds it through JUPYTER_PATH.
KERNELS_DIR = os.path.join(REPO, "notebooks")

VEGA_LITE = "application/vnd.vegalite.v5+json"

# Run after the last cell so that an exception thrown asynchronously by a late cell still shows up as stderr.
TSLAB_FINAL_CHECK = 'await new Promise((resolve) => setTimeout(resolve, 200));\nconsole.log("notebook finished");'


def cell_problems(cell, reply):
    """Everything wrong with one executed code cell, as short sentences."""
    problems = []
    status = reply.get("content", {}).get("status") if reply else None
    if status != "ok":
        problems.append(f"execution status {status!r}")
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            problems.append("wrote to stderr")
        if output.get("output_type") == "error":
            problems.append(f"raised {output.get('ename')}: {output.get('evalue')}")
    if not cell.get("outputs"):
        problems.append("produced no output")
    if "chart" in cell.get("metadata", {}).get("tags", []):
        if not any(VEGA_LITE in o.get("data", {}) and "image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
            problems.append("is tagged 'chart' but shows no chart (vega-lite with a PNG)")
    return sorted(set(problems), key=problems.index)


def report_failure(path, index, cell, problems):
    out = sys.stderr
    print(f"{path}: cell {index} {', '.join(problems)}", file=out)
    print("---- cell source ----", file=out)
    print(cell.get("source", ""), file=out)
    stderr = "".join(
        o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == "stderr"
    )
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if stderr:
        print("---- stderr ----", file=out)
        print(stderr.rstrip("\n"), file=out)
    for error in errors:
        print("---- error ----", file=out)
        print("\n".join(error.get("traceback", [])) or f"{error.get('ename')}: {error.get('evalue')}", file=out)


def run(path, output, timeout):
    nb = nbformat.read(path, as_version=4)
    kernel_name = nb.metadata.get("kernelspec", {}).get("name", "tslab")
    code_cells = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if not code_cells:
        print(f"{path}: no code cells", file=sys.stderr)
        return 1
    for index, cell in code_cells:
        if not cell.source.strip():
            print(f"{path}: cell {index} is an empty code cell", file=sys.stderr)
            return 1

    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (KERNELS_DIR, os.environ.get("JUPYTER_PATH")) if p)
    workdir = os.path.dirname(os.path.abspath(path))
    replies = {}  # id(cell) -> the kernel's execute_reply (execute_cell returns the cell, not the reply)
    client = NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=timeout,
        allow_errors=True,  # the runner judges each cell itself, with a clearer message than nbclient's
        resources={"metadata": {"path": workdir}},
        on_cell_executed=lambda cell, cell_index, execute_reply: replies.__setitem__(id(cell), execute_reply),
    )
    failed = False
    with client.setup_kernel():
        for index, cell in code_cells:
            client.execute_cell(cell, index)
            problems = cell_problems(cell, replies.get(id(cell)))
            if problems:
                report_failure(path, index, cell, problems)
                failed = True
                break
        if not failed and kernel_name == "tslab":
            final = nbformat.v4.new_code_cell(TSLAB_FINAL_CHECK)
            nb.cells.append(final)  # nbclient stores each executed cell back into the notebook by index
            client.execute_cell(final, len(nb.cells) - 1)
            nb.cells.pop()
            problems = cell_problems(final, replies.get(id(final)))
            if problems:
                report_failure(path, "after the last one (an asynchronous error)", final, problems)
                failed = True
    if output:
        nbformat.write(nb, output)
    if failed:
        return 1
    print(f"{path}: {len(code_cells)} code cells ran cleanly")
    return 0


def main():
    parser = argparse.ArgumentParser(description="Execute a notebook and fail on any error, stderr output or empty cell.")
    parser.add_argument("notebook")
    parser.add_argument("--output", help="write the executed notebook here")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    args = parser.parse_args()
    if not os.path.isfile(args.notebook):
        print(f"{args.notebook}: no such notebook", file=sys.stderr)
        return 2
    try:
        return run(args.notebook, args.output, args.timeout)
    except Exception as exc:  # kernel death, timeout, unreadable notebook: one clear line, not a traceback
        print(f"{args.notebook}: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
