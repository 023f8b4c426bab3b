"""Which diagram participant a service is: `service.name` ↔ participant.

In order: the explicit mapping (`[tool.mermaidgen.verify.services]`, `--service`), which
wins because someone wrote it down; then the participant's id, then its label, exactly;
then both after the analysis' name normalisation (`naming.snake`: `order-service`,
`OrderService` and `Order Service` are one name). Two participants that normalise alike
make the name ambiguous: it is then left unmapped, and `--explain` says why.
"""

from __future__ import annotations

from collections.abc import Mapping

from mermaidgen.analysis.naming import snake
from mermaidgen.errors import UsageError
from mermaidgen.model import Diagram


class Participants:
    def __init__(self, diagram: Diagram, explicit: Mapping[str, str] | None = None) -> None:
        self.ids = [p.id for p in diagram.participants]
        self._by_id = {p.id: p.id for p in diagram.participants}
        self._by_label: dict[str, str] = {}
        for p in diagram.participants:
            self._by_label.setdefault(p.label, p.id)
        self.explicit = {service: self._target(service, name)
                         for service, name in (explicit or {}).items()}
        self._by_snake: dict[str, set[str]] = {}
        for p in diagram.participants:
            for name in (p.id, p.label):
                self._by_snake.setdefault(snake(name), set()).add(p.id)
        self.decisions: dict[str | None, tuple[str | None, str]] = {}

    def _target(self, service: str, name: str) -> str:
        """The participant an explicit mapping names, by id or label."""
        found = self._by_id.get(name) or self._by_label.get(name)
        if found is None:
            known = ", ".join(p if p == label else f"{p} ({label})" for label, p in
                              sorted(self._by_label.items(), key=lambda x: x[1]))
            raise UsageError(f"the service `{service}` is mapped to `{name}`, which is no "
                             f"participant of the diagram (its participants: {known})")
        return found

    def of(self, service: str | None) -> str | None:
        """The participant of a service, or None."""
        found = self.decisions.get(service)
        if found is None:
            found = self.decisions[service] = self._decide(service)
        return found[0]

    def _decide(self, service: str | None) -> tuple[str | None, str]:
        if service is None:
            return None, "spans without `service.name`: no participant"
        if service in self.explicit:
            return self.explicit[service], "the configured mapping"
        if service in self._by_id:
            return service, "the participant's id"
        if service in self._by_label:
            return self._by_label[service], "the participant's label"
        same = self._by_snake.get(snake(service), set())
        if len(same) == 1:
            return next(iter(same)), f"the same name after normalisation ({snake(service)})"
        if same:
            return None, (f"ambiguous: {', '.join(sorted(same))} all normalise to "
                          f"{snake(service)}; map it in [tool.mermaidgen.verify.services]")
        return None, ("no participant has this name; map it in "
                      "[tool.mermaidgen.verify.services] if it is one")
