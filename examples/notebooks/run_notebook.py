"""Runs a Jupyter notebook as a pipeline step, as papermill does, with nbclient and ipykernel only.

usage: run_notebook.py NOTEBOOK PARAMETERS_JSON EXECUTED_PATH RESULT_PATH

NOTEBOOK is a path to an .ipynb, or the notebook's JSON itself. The parameters become a cell tagged
'injected-parameters' right after the cell tagged 'parameters' (at the top when there is none), replacing
one a previous run injected; the executed notebook, outputs and all, is written to EXECUTED_PATH even when
a cell fails; RESULT_PATH gets the text of the last output of the last cell that has one. What the cells print goes to stdout
too (as papermill's --log-output), where a Katib StdOut metrics collector finds lines such as loss=0.25.
"""
import json
import os
import sys

import nbformat
from nbclient import NotebookClient


def inject(nb, parameters):
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    source = "# Parameters\n" + "".join("%s = %r\n" % (k, v) for k, v in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])]
    nb.cells.insert(tagged[0] + 1 if tagged else 0, cell)


def last_output(nb):
    for cell in reversed(nb.cells):
        for out in reversed(cell.get("outputs", [])):
            if out.get("output_type") in ("execute_result", "display_data"):
                return out.get("data", {}).get("text/plain", "")
            if out.get("output_type") == "stream":
                return out.get("text", "").rstrip("\n")
    return ""


def main(argv):
    if len(argv) != 5:
        sys.exit(__doc__)
    notebook, parameters, executed, result = argv[1:]
    inline = notebook.lstrip().startswith("{")
    nb = nbformat.reads(notebook, as_version=4) if inline else nbformat.read(notebook, as_version=4)
    params = json.loads(parameters) if parameters.strip() else {}
    if not isinstance(params, dict):
        sys.exit("parameters must be a JSON object of name: value, got " + parameters[:200])
    for name in params:
        if not name.isidentifier():
            sys.exit("parameter %r is not a Python name" % name)
    inject(nb, params)
    workdir = os.getcwd() if inline else os.path.dirname(os.path.abspath(notebook))
    client = NotebookClient(nb, timeout=int(os.environ.get("NOTEBOOK_CELL_TIMEOUT", "600")),
                            kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
                            resources={"metadata": {"path": workdir}})
    try:
        client.execute()
    finally:
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream":
                    sys.stdout.write(out.get("text", ""))
        sys.stdout.flush()
        for path in (executed, result):
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        nbformat.write(nb, executed)
    with open(result, "w") as f:
        f.write(last_output(nb))


if __name__ == "__main__":
    main(sys.argv)
