"""Hypothesis strategies for JSON values and frames, shared by the rpc property tests."""

from typing import Any

from hypothesis import strategies as st

from ocppnet.rpc.frames import Call, CallError, CallResult, CallResultError, Frame, Send

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values: st.SearchStrategy[Any] = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)
ids = st.text(min_size=1, max_size=36)
node_ids = st.text(min_size=1, max_size=12)
actions = st.text(min_size=1, max_size=30)


def frames(*, overlay: bool, version: str) -> st.SearchStrategy[Frame]:
    """Valid frames of the version, in standard (dest None) or overlay mode."""
    dest = node_ids if overlay else st.none()
    path = st.lists(node_ids, max_size=5).map(tuple) if overlay else st.just(())
    kinds: list[st.SearchStrategy[Frame]] = [
        st.builds(Call, ids, actions, json_objects, dest, path),
        st.builds(CallResult, ids, json_objects, dest, path),
        st.builds(
            CallError, ids, st.text(min_size=1, max_size=30), st.text(), json_objects, dest, path
        ),
    ]
    if version == "2.1":
        kinds += [
            st.builds(Send, ids, actions, json_objects, dest, path),
            st.builds(
                CallResultError,
                ids,
                st.text(min_size=1, max_size=30),
                st.text(),
                json_objects,
                dest,
                path,
            ),
        ]
    return st.one_of(kinds)
