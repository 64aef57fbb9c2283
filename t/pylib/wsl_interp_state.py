# Per-interpreter state for t/interp.t: every script that imports this
# appends to `hits`, so two scripts see each other's entries only when
# they run in the same interpreter (the same sys.modules).
hits = []
