"""A document editor whose selection history keeps whole documents alive.

Every parsed document is a tree of Nodes that point both ways (`parent` and `children`). The editor drops each
document when it is done with it, but remembers the last selected node of each one in the module-level list
`_selection_history`. That single leaf reaches its root through `.parent` and the root reaches every node through
`.children`, so each entry keeps a whole tree (about 40 nodes) alive.

Usage: python3 examples/tree/app.py [OUT_DIR [ROUNDS]]   (default: examples/tree/snapshots, 4 rounds)
"""
import gc
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))
import leakbook  # noqa: E402  (the capture agent, found through the line above when not on PYTHONPATH)

ROUNDS = 4
DOCUMENTS_PER_ROUND = 10
SECTIONS = 6
PARAGRAPHS_PER_SECTION = 5


class Node:
    def __init__(self, kind, text, parent=None):
        self.kind = kind
        self.text = text
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


# The handle: one node per document, kept "for undo", and never trimmed.
_selection_history = []


def parse_document(doc_no):
    root = Node("document", f"document {doc_no}")
    for s in range(SECTIONS):
        section = Node("section", f"section {doc_no}.{s}", root)
        for p in range(PARAGRAPHS_PER_SECTION):
            Node("paragraph", f"paragraph {doc_no}.{s}.{p}", section)
    return root


def edit_document(doc_no):
    root = parse_document(doc_no)
    selected = root.children[-1].children[-1]  # the user clicks the last paragraph
    word_count = sum(len(node.text.split()) for section in root.children for node in section.children)
    _selection_history.append(selected)
    return word_count


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "snapshots")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else ROUNDS
    os.makedirs(out, exist_ok=True)
    doc_no = 0
    for round_no in range(-1, rounds):  # round -1 warms up: one-off start-up allocations precede the first snapshot
        for _ in range(DOCUMENTS_PER_ROUND):
            edit_document(doc_no)
            doc_no += 1
        gc.collect()
        if round_no < 0:
            # The agent's first capture imports a few modules of its own: take it in the warm-up and discard it.
            os.remove(leakbook.snapshot(os.path.join(out, "warm-up.lbsnap")))
        else:
            leakbook.snapshot(os.path.join(out, f"tree-{round_no}.lbsnap"))


if __name__ == "__main__":
    main()
