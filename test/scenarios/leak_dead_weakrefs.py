"""An observer registry that keeps weak references to listeners but never prunes the dead ones.

Real-world bug class: a hand-made weak registry (a list of weakref.ref) that drops the objects but not the
references: each dead weakref stays in the list, so the list grows by one per request though every listener is gone.
A right diagnosis names the list (sys.modules['__main__'].observers) as a growing container, not as a weak symptom
whose referents live elsewhere, and says to remove dead entries.
"""
# verdict: leak
# kinds: growing-container
# holder: sys.modules['__main__'].observers
# remedy: Prune the dead references
import weakref

import rounds

observers = []


class Listener:
    def __init__(self, n):
        self.n = n


def handle(n):
    listener = Listener(n)
    observers.append(weakref.ref(listener))  # the listener dies on return; its dead reference stays
    for ref in observers[-3:]:
        target = ref()
        if target is not None:
            target.n += 1


rounds.run(handle, 400)
