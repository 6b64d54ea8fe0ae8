"""A pricing helper with functools.lru_cache(maxsize=None) on a method, and a new helper object per request.

Real-world bug class: caching a method. self is part of the cache key, so the unbounded cache keeps every
instance it was ever called on (and every argument and result), although each instance is used only once.
A right diagnosis names the cache on the class (sys.modules['__main__'].PriceCalculator.price) as an unbounded
lru_cache whose size grows, and says to bound it (maxsize), cache a module-level function of the real key, or
use a per-instance cache.
"""
# verdict: leak
# kinds: unbounded-cache
# holder: PriceCalculator.price
import functools

import rounds


class PriceCalculator:
    def __init__(self, customer):
        self.customer = customer
        self.discounts = {"loyalty": customer % 7, "seasonal": 3}

    @functools.lru_cache(maxsize=None)
    def price(self, sku):
        base = 100 + sku % 50
        return {"sku": sku, "price": base - sum(self.discounts.values()), "currency": "EUR"}


def quote(n):
    calc = PriceCalculator(n)  # a new instance per request: a new cache key every time
    return [calc.price(sku) for sku in (n % 10, n % 10 + 1)]


rounds.run(quote, 300)
