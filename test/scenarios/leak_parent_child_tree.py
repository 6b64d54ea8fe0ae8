"""A document editor that keeps every parsed document tree in an undo history; the nodes link parent <-> children.

Real-world bug class: two-way trees kept by one handle. Each node has .parent and .children, so one kept node
keeps its whole tree; the undo history keeps one root per edit and is never trimmed.
A right diagnosis names the history list (sys.modules['__main__'].editor.undo_history) as the single handle that
keeps the trees (a bidirectional tree or cycle group growing under it), and says to bound the history
(deque(maxlen=N)) and/or make the parent link a weakref.
"""
# verdict: leak
# kinds: bidirectional-tree|cycle|growing-container
# holder: editor.undo_history
import rounds


class Node:
    def __init__(self, tag, parent=None):
        self.tag = tag
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


def parse(n):
    root = Node("doc-%d" % n)
    for s in range(3):
        section = Node("section", root)
        for p in range(3):
            Node("p-%d" % p, section)
    return root


class Editor:
    def __init__(self):
        self.undo_history = []

    def edit(self, n):
        self.undo_history.append(parse(n))  # one tree per edit, kept for undo, never trimmed


editor = Editor()
rounds.run(editor.edit, 60)
