"""Failing twins for tap maps: one tap moved to another phase or offset, or dropped."""

from hypothesis import strategies as st


def corrupt_one_tap(data, taps, kernel, stride):
    """Draw a corruption of ``taps`` (an equivalence's tap map with bank size ``kernel``).

    Returns ``(corrupted taps, the original entry that was changed)``: a tap dropped, or its
    phase or offset moved on an axis where another value exists (drawn only among those, so
    every draw is a real corruption).
    """
    taps = list(taps)
    victim = data.draw(st.integers(0, len(taps) - 1))
    t = taps[victim]
    options = [("missing", 0)] + [
        (kind, axis) for kind, bounds in (("offset", kernel), ("phase", stride)) for axis, b in enumerate(bounds) if b > 1
    ]
    kind, axis = data.draw(st.sampled_from(options))
    if kind == "missing":
        del taps[victim]
        return taps, t
    vec = list(getattr(t, kind))
    bound = (kernel if kind == "offset" else stride)[axis]
    vec[axis] = (vec[axis] + data.draw(st.integers(1, bound - 1))) % bound
    taps[victim] = t._replace(**{kind: tuple(vec)})
    return taps, t
