"""The order of a trace's messages: causality first, timestamps second.

Services' clocks disagree (by seconds, in practice), so a timestamp is compared only with
another read on the same clock (one service instance). A message must come after:

* the messages its sender sent before it (same clock);
* the messages its sender received before it sent it (same clock: the receiving span's
  start, a reply's client span end);
* the message received by the nearest span above its sending span (the span tree: the
  consumer span whose handler published it, the server span whose handler called out),
  and a broker's delivery after its publish, a reply after its request.

Everything else is concurrent: the checker allows any order the diagram allows, so the
order chosen among concurrent messages (earliest timestamp first, across clocks) does
not decide a verdict. Each clock's sends wait for the receives before them, so no cycle
can form unless a clock runs backwards (or two instances share a clock name); then the
earliest remaining message goes next.
"""

from __future__ import annotations

import heapq

from mermaidgen.verify.mapping import Hop


def ordered(hops: list[Hop]) -> list[int]:
    """The hops' indices in an order that respects every relation above."""
    count = len(hops)
    if count < 2:
        return list(range(count))
    preds: list[set[int]] = [set(h.after) for h in hops]
    local: dict[str, list[tuple[int, int, int]]] = {}  # clock -> (time, 0 recv / 1 send, hop)
    for i, h in enumerate(hops):
        if h.send is not None:
            local.setdefault(h.send[0], []).append((h.send[1], 1, i))
        if h.recv is not None:
            local.setdefault(h.recv[0], []).append((h.recv[1], 0, i))
    for events in local.values():
        events.sort()
        last_send = -1
        since: list[int] = []
        for _, is_send, i in events:
            if not is_send:
                since.append(i)
                continue
            if last_send >= 0:
                preds[i].add(last_send)
            preds[i].update(since)
            since = []
            last_send = i
    for i in range(count):
        preds[i].discard(i)
    after: list[list[int]] = [[] for _ in range(count)]
    waiting = [0] * count
    for i, ps in enumerate(preds):
        waiting[i] = len(ps)
        for p in ps:
            after[p].append(i)
    key = [(_time(h), i) for i, h in enumerate(hops)]
    heap = [key[i] for i in range(count) if not waiting[i]]
    heapq.heapify(heap)
    out: list[int] = []
    done = [False] * count
    while len(out) < count:
        if not heap:  # a cycle (a clock that ran backwards): earliest remaining first
            i = min(key[i] for i in range(count) if not done[i])[1]
            waiting[i] = 0
            heap.append(key[i])
        _, i = heapq.heappop(heap)
        if done[i]:
            continue
        done[i] = True
        out.append(i)
        for j in after[i]:
            waiting[j] -= 1
            if waiting[j] == 0 and not done[j]:
                heapq.heappush(heap, key[j])
    return out


def _time(hop: Hop) -> int:
    if hop.send is not None:
        return hop.send[1]
    return hop.recv[1] if hop.recv is not None else 0
