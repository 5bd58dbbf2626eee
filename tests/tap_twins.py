"""Failing twins for tap maps: one tap moved to another phase or offset, or dropped."""

from hypothesis import strategies as st


def corrupt_one_tap(data, taps, kernel, stride):
    """Draw a corruption of ``taps`` (an equivalence's tap map with bank size ``kernel``).

    Returns ``(corrupted taps, the original entry that was changed)``, or ``None`` when the drawn
    axis admits no other value (a stride or kernel of 1 there).
    """
    taps = list(taps)
    victim = data.draw(st.integers(0, len(taps) - 1))
    t = taps[victim]
    kind = data.draw(st.sampled_from(["offset", "phase", "missing"]))
    axis = data.draw(st.integers(0, len(stride) - 1))
    if kind == "missing":
        del taps[victim]
        return taps, t
    vec = list(getattr(t, kind))
    bound = (kernel if kind == "offset" else stride)[axis]
    if bound == 1:
        return None
    vec[axis] = (vec[axis] + data.draw(st.integers(1, bound - 1))) % bound
    taps[victim] = t._replace(**{kind: tuple(vec)})
    return taps, t
