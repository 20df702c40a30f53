"""How many rows one agreement write may carry (API and import alike; docs/api.md).

Each row is checked against the database, so an unbounded list would let one request hold a
worker for minutes. The bounds are far above any real agreement: the largest multilateral
treaties have a few hundred parties."""

MAX_PARTIES = 500
MAX_PROVISIONS = 1000
MAX_WATCHERS = 500
MAX_CONTACTS = 100  # responsible desk officers (points of contact)
MAX_EVENTS = 1000
MAX_ACTS = 100  # a party's acts in one write
MAX_ACTS_PER_WRITE = 5000  # all parties' acts together in one write

# Agreements one "Record a review" action in the admin may review (one transaction).
MAX_REVIEWS_AT_ONCE = 500
