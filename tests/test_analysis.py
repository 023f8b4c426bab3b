"""Analysis acceptance tests: roles, brokers, events, both projections, style and lint.

Every expectation here was written from product.md section 5 (what the diagram means), not
copied from what the analysis prints. Where the analysis disagrees, the test keeps the
correct expectation and is marked `xfail(strict=True)` with the reason, so that fixing the
analysis turns it into a failure that asks for the mark to be removed.

The diagrams live in `tests/analysis/*.mmd` (each one accepted by mermaid.js 12.3); the
seeds are read from `../shared/corpus/seed/` at test time. Projections are compared as the
compact outlines of `mermaidgen.projection.outline`.
"""

from __future__ import annotations

import functools
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mermaidgen import parse, projection
from mermaidgen.analysis import Analysis, analyse
from mermaidgen.analysis.lint import RULES
from mermaidgen.errors import UsageError
from mermaidgen.model import messages
from mermaidgen.projection import outline
from mermaidgen.projection.views import Call, Fragment

ROOT = Path(__file__).resolve().parents[1]
DIAGRAMS = Path(__file__).parent / "analysis"
SEEDS = ROOT.parent / "shared" / "corpus" / "seed"
SAMPLES = ROOT / "samples"


# --- helpers -----------------------------------------------------------------------------


@functools.cache
def analysed(path: Path, orchestrator: str | None = None) -> Analysis:
    return analyse(parse(path.read_text(encoding="utf-8"), str(path)), orchestrator)


def of(text: str, orchestrator: str | None = None) -> Analysis:
    return analyse(parse(textwrap.dedent(text).lstrip("\n")), orchestrator)


def choreography_of(a: Analysis) -> str:
    return outline.choreography(projection.choreography_of(a))


def orchestration_of(a: Analysis) -> str:
    return outline.orchestration(projection.orchestration_of(a), messages(a.diagram))


def sections(text: str) -> dict[str, str]:
    """An outline split at its unindented lines: service name (or `workflow X`) -> block."""
    out: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.split("\n"):
        if not line.startswith(" "):
            current = out.setdefault(line, [])
        current.append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def block(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def roles_of(a: Analysis) -> list[str]:
    return [m.role if m.reply_to is None else f"{m.role}:{m.reply_to}" for m in a.messages]


def handler_block(choreography: str, service: str, header: str) -> str:
    """The lines of one handler (`on X from Y` or `start`) of one service."""
    lines = sections(choreography)[service].split("\n")
    start = lines.index(f"  {header}")
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"  \S", lines[i])),
               len(lines))
    return "\n".join(lines[start:end])


# --- the cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    file: str
    roles: str
    """Space-separated roles in message order; `reply:N` answers message N, `reply:?` some
    message, `*` any role."""
    events: str
    """One event per line: `name | class | channel | producers -> consumers` (`*` = any);
    a last line `...` means that only the events listed are checked."""
    style: str
    reason: str
    """A fragment the style reason must contain."""
    choreography: str | dict[str, str]
    """The whole outline, or the blocks of some services only (where the rest has no
    agreed projection yet; see the bug notes)."""
    orchestration: str | dict[str, str]
    brokers: tuple[str, ...] = ()
    hops: str | None = None
    """Space-separated hop per message (`-` for none), for broker diagrams."""
    diagnostics: tuple[tuple[str, int], ...] = ()
    bugs: dict[str, str] = field(default_factory=dict)
    """aspect -> why the analysis is wrong there (the test is a strict xfail)."""

    @property
    def path(self) -> Path:
        return DIAGRAMS / self.file


CASES = [
    Case(
        "saga-compensation.mmd",
        roles="request request reply:1 request reply:3 reply:0 reply:3 request reply:7 reply:0",
        events="""
            PlaceOrder | PlaceOrder | place-order | Checkout -> Saga
            Reserve stock | ReserveStock | reserve-stock | Saga -> Inventory
            Stock reserved | StockReserved | stock-reserved | Inventory -> Saga
            Charge card | ChargeCard | charge-card | Saga -> Payments
            Payment captured | PaymentCaptured | payment-captured | Payments -> Saga
            Order confirmed | OrderConfirmed | order-confirmed | Saga -> Checkout
            Payment declined | PaymentDeclined | payment-declined | Payments -> Saga
            Release stock | ReleaseStock | release-stock | Saga -> Inventory
            Stock released | StockReleased | stock-released | Inventory -> Saga
            Order rejected | OrderRejected | order-rejected | Saga -> Checkout
        """,
        style="orchestration",
        reason="`Saga` is named like an orchestrator",
        choreography="""
            Checkout
              start
                publish PlaceOrder -> Saga
              on Order confirmed from Saga
              on Order rejected from Saga
            Saga
              on PlaceOrder from Checkout
                publish Reserve stock -> Inventory
              on Stock reserved from Inventory
                publish Charge card -> Payments
              on Payment captured from Payments
                publish Order confirmed -> Checkout
              on Payment declined from Payments
                # compensate the reservation
                publish Release stock -> Inventory
              on Stock released from Inventory
                publish Order rejected -> Checkout
            Inventory
              on Reserve stock from Saga
                publish Stock reserved -> Saga
              on Release stock from Saga
                publish Stock released -> Saga
            Payments
              on Charge card from Saga
                alt card charged
                  [card charged]
                    publish Payment captured -> Saga
                  [card declined]
                    publish Payment declined -> Saga
        """,
        orchestration="""
            workflow Saga
              started by "PlaceOrder"
              call Inventory.reserve_stock "Reserve stock" -> "Stock reserved"
              call Payments.charge_card "Charge card" -> "Payment captured" | "Payment declined"
              alt card charged (the reply to "Charge card" decides)
                [card charged]
                  when Payments answers "Payment captured"
                  reply Checkout: "Order confirmed"
                [card declined]
                  when Payments answers "Payment declined"
                  # compensate the reservation
                  call Inventory.release_stock "Release stock" -> "Stock released"
                  reply Checkout: "Order rejected"
            Inventory
              reserve_stock "Reserve stock" -> "Stock reserved"
              release_stock "Release stock" -> "Stock released"
            Payments
              charge_card "Charge card" -> "Payment captured"
        """,
    ),
    Case(
        "saga-behind-api.mmd",
        roles="request request request reply:2 reply:1 reply:0",
        events="""
            POST /orders | PostOrders | post-orders | Customer -> API
            Start order saga | StartOrderSaga | start-order-saga | API -> Saga
            Reserve items | ReserveItems | reserve-items | Saga -> Stock
            Items reserved | ItemsReserved | items-reserved | Stock -> Saga
            Saga completed | SagaCompleted | saga-completed | Saga -> API
            201 Created | Event201Created | 201-created | API -> Customer
        """,
        style="orchestration",
        reason="`Saga` is named like an orchestrator",
        choreography="""
            Customer
              start
                publish POST /orders -> API
              on 201 Created from API
            API
              on POST /orders from Customer
                publish Start order saga -> Saga
              on Saga completed from Saga
                publish 201 Created -> Customer
            Saga
              on Start order saga from API
                publish Reserve items -> Stock
              on Items reserved from Stock
                publish Saga completed -> API
            Stock
              on Reserve items from Saga
                publish Items reserved -> Saga
        """,
        # the client's call to the API is not a step of the saga: the saga is started by
        # the API's call, and it is never a service that its own workflow calls
        orchestration={
            "workflow Saga": """
                workflow Saga
                  started by "Start order saga"
                  call Stock.reserve_items "Reserve items" -> "Items reserved"
                  reply API: "Saga completed"
            """,
            "Stock": """
                Stock
                  reserve_items "Reserve items" -> "Items reserved"
            """,
        },
    ),
    Case(
        "payment-alt.mmd",
        roles="request request reply:1 reply:0 reply:1 reply:0 reply:1 reply:0",
        events="""
            Authorize 42 EUR | Authorize42Eur | authorize-42-eur | Checkout -> Payments
            Authorization request | AuthorizationRequest | authorization-request | Payments -> Bank
            Approved | Approved | approved | Bank -> Payments
            Authorized | Authorized | authorized | Payments -> Checkout
            Declined | Declined | declined | Bank -> Payments
            Refused | Refused | refused | Payments -> Checkout
            Challenge required | ChallengeRequired | challenge-required | Bank -> Payments
            Redirect to 3-D Secure | RedirectTo3DSecure | redirect-to-3-d-secure | Payments -> Checkout
        """,  # noqa: E501
        style="orchestration",
        reason="8 of 8 messages are request/reply pairs, centred on `Payments`",
        choreography="""
            Checkout
              start
                publish Authorize 42 EUR -> Payments
              on Authorized from Payments
              on Refused from Payments
              on Redirect to 3-D Secure from Payments
            Payments
              on Authorize 42 EUR from Checkout
                publish Authorization request -> Bank
              on Approved from Bank
                publish Authorized -> Checkout
              on Declined from Bank
                publish Refused -> Checkout
              on Challenge required from Bank
                publish Redirect to 3-D Secure -> Checkout
            Bank
              on Authorization request from Payments
                alt accepted
                  [accepted]
                    publish Approved -> Payments
                  [declined]
                    publish Declined -> Payments
                  [needs 3-D Secure]
                    publish Challenge required -> Payments
        """,
        orchestration="""
            workflow Payments
              started by "Authorize 42 EUR"
              call Bank.authorization_request "Authorization request" -> "Approved" | "Declined" | "Challenge required"
              alt accepted (the reply to "Authorization request" decides)
                [accepted]
                  when Bank answers "Approved"
                  reply Checkout: "Authorized"
                [declined]
                  when Bank answers "Declined"
                  reply Checkout: "Refused"
                [needs 3-D Secure]
                  when Bank answers "Challenge required"
                  reply Checkout: "Redirect to 3-D Secure"
            Bank
              authorization_request "Authorization request" -> "Approved"
        """,  # noqa: E501
    ),
    Case(
        "kafka-hop-texts.mmd",
        roles="event event event event event event event",
        hops="publish deliver deliver deliver publish deliver deliver",
        brokers=("Kafka",),
        # five spellings, two events; the topic in parentheses is the channel
        events="""
            ORDER_CREATED | OrderCreated | orders.v1 | Orders -> Payments, Mailer, Analytics
            PaymentCaptured | PaymentCaptured | payments.v1 | Payments -> Orders, Mailer
        """,
        style="choreography",
        reason="broker `Kafka`",
        choreography="""
            Orders
              start
                publish ORDER_CREATED -> Kafka
              on PaymentCaptured from Payments
            Payments
              on ORDER_CREATED from Orders
                publish PaymentCaptured -> Kafka
            Mailer
              on ORDER_CREATED from Orders
              on PaymentCaptured from Payments
            Analytics
              on ORDER_CREATED from Orders
        """,
        # a delivery relayed as a step is named after the event it carries, as in the
        # event catalogue, not after the hop's wording
        orchestration="""
            workflow Orchestrator (synthetic)
              publish "Publish: ORDER_CREATED (orders.v1)" -> Kafka (for Orders)
              call Payments.order_created "Consume: ORDER_CREATED" (for Orders)
              call Mailer.order_created "OrderCreated event" (for Orders)
              call Analytics.order_created "emit OrderCreated" (for Orders)
              publish "PaymentCaptured (payments.v1)" -> Kafka (for Payments)
              call Orders.payment_captured "Consume: PAYMENT_CAPTURED" (for Payments)
              call Mailer.payment_captured "PaymentCaptured event" (for Payments)
            Payments
              order_created "Consume: ORDER_CREATED"
            Mailer
              order_created "OrderCreated event"
              payment_captured "PaymentCaptured event"
            Analytics
              order_created "emit OrderCreated"
            Orders
              payment_captured "Consume: PAYMENT_CAPTURED"
        """,
    ),
    Case(
        "queue-kind-broker.mmd",
        roles="self event event event event event self event event",
        hops="- publish deliver deliver publish deliver - publish deliver",
        brokers=("Bus",),
        # Shipping gets InvoiceIssued (Billing's) and OrderPlaced (Orders') either way
        # round, then prints the label: it joins them (tests/test_receipt_join.py)
        diagnostics=(("unordered-receipts", 11),),
        events="""
            OrderPlaced | OrderPlaced | Bus | Orders -> Billing, Shipping
            InvoiceIssued | InvoiceIssued | Bus | Billing -> Shipping
            ParcelShipped | ParcelShipped | Bus | Shipping -> Orders
        """,
        style="choreography",
        reason="broker `Bus`",
        choreography="""
            Orders
              start
                step Store order
                publish OrderPlaced -> Bus
              on ParcelShipped from Shipping
            Billing
              on OrderPlaced from Orders
                publish InvoiceIssued -> Bus
            Shipping
              on OrderPlaced from Orders
                arrive at the join of line 11
              on InvoiceIssued from Billing
                arrive at the join of line 11
              after the join of line 11, once its 2 events arrive
                step Print label
                publish ParcelShipped -> Bus
        """,
        orchestration="""
            workflow Orchestrator (synthetic)
              call Orders.store_order "Store order" (for Orders)
              publish "OrderPlaced" -> Bus (for Orders)
              send Billing.order_placed "OrderPlaced" (for Orders)
              send Shipping.order_placed "OrderPlaced" (for Orders)
              publish "InvoiceIssued" -> Bus (for Billing)
              send Shipping.invoice_issued "InvoiceIssued" (for Billing)
              call Shipping.print_label "Print label" (for Shipping)
              publish "ParcelShipped" -> Bus (for Shipping)
              send Orders.parcel_shipped "ParcelShipped" (for Shipping)
            Orders
              store_order "Store order"
              parcel_shipped "ParcelShipped"
            Billing
              order_placed "OrderPlaced"
            Shipping
              order_placed "OrderPlaced"
              invoice_issued "InvoiceIssued"
              print_label "Print label"
        """,
    ),
    Case(
        "event-bus-choice.mmd",
        roles="event event self event event event event event event",
        hops="publish deliver - publish deliver publish deliver publish deliver",
        brokers=("Bus",),
        events="""
            ReturnRequested | ReturnRequested | Bus | Returns -> Warehouse
            ItemRestocked | ItemRestocked | Bus | Warehouse -> Refunds
            RefundIssued | RefundIssued | Bus | Refunds -> Returns
            ReturnRejected | ReturnRejected | Bus | Warehouse -> Returns
        """,
        style="choreography",
        reason="broker `Bus`",
        # Warehouse starts both branches: the choice is realizable, no lint finding
        choreography="""
            Returns
              start
                publish ReturnRequested -> Bus
              on RefundIssued from Refunds
              on ReturnRejected from Warehouse
            Warehouse
              on ReturnRequested from Returns
                step Inspect item
                alt item as new
                  [item as new]
                    publish ItemRestocked -> Bus
                  [item damaged]
                    publish ReturnRejected -> Bus
            Refunds
              on ItemRestocked from Warehouse
                publish RefundIssued -> Bus
        """,
        orchestration="""
            workflow Orchestrator (synthetic)
              publish "emit ReturnRequested" -> Bus (for Returns)
              call Warehouse.return_requested "ReturnRequested event" (for Returns)
              call Warehouse.inspect_item "Inspect item" (for Warehouse)
              alt item as new
                [item as new]
                  publish "emit ItemRestocked" -> Bus (for Warehouse)
                  call Refunds.item_restocked "ItemRestocked event" (for Warehouse)
                  publish "emit RefundIssued" -> Bus (for Refunds)
                  call Returns.refund_issued "RefundIssued event" (for Refunds)
                [item damaged]
                  publish "emit ReturnRejected" -> Bus (for Warehouse)
                  call Returns.return_rejected "ReturnRejected event" (for Warehouse)
            Warehouse
              return_requested "ReturnRequested event"
              inspect_item "Inspect item"
            Refunds
              item_restocked "ItemRestocked event"
            Returns
              refund_issued "RefundIssued event"
              return_rejected "ReturnRejected event"
        """,
    ),
    Case(
        "sns-sqs-fanout.mmd",
        roles="event event event",
        hops="publish forward deliver",
        brokers=("SNS", "SQS"),
        events="""
            OrderPlaced | OrderPlaced | SNS | Orders -> Billing
        """,
        style="choreography",
        reason="broker",
        # SNS -> SQS -> Billing is one event: produced by Orders, consumed by Billing
        choreography="""
            Orders
              start
                publish OrderPlaced -> SNS
            Billing
              on OrderPlaced from Orders
        """,
        orchestration="""
            workflow Orchestrator (synthetic)
              publish "OrderPlaced" -> SNS (for Orders)
              call Billing.order_placed "OrderPlaced" (for Orders)
            Billing
              order_placed "OrderPlaced"
        """,
    ),
    Case(
        "azure-service-bus.mmd",
        roles="event event event event event",
        hops="publish deliver deliver publish deliver",
        brokers=("ASB",),
        events="""
            OrderPlaced | OrderPlaced | orders | Orders -> Billing, Email
            InvoiceCreated | InvoiceCreated | invoices | Billing -> Email
        """,
        style="choreography",
        reason="broker `ASB`",
        choreography="""
            Orders
              start
                publish OrderPlaced -> ASB
            Billing
              on OrderPlaced from Orders
                publish InvoiceCreated -> ASB
            Email
              on OrderPlaced from Orders
              on InvoiceCreated from Billing
        """,
        orchestration="""
            workflow Orchestrator (synthetic)
              publish "OrderPlaced (orders)" -> ASB (for Orders)
              call Billing.order_placed "OrderPlaced" (for Orders)
              call Email.order_placed "OrderPlaced" (for Orders)
              publish "InvoiceCreated (invoices)" -> ASB (for Billing)
              call Email.invoice_created "InvoiceCreated" (for Billing)
            Billing
              order_placed "OrderPlaced"
            Email
              order_placed "OrderPlaced"
              invoice_created "InvoiceCreated"
        """,
    ),
    Case(
        "topic-on-delivery.mmd",
        roles="event event event",
        hops="publish deliver deliver",
        brokers=("Kafka",),
        # the topic may be written on any hop of the event
        events="""
            OrderPlaced | OrderPlaced | orders.v1 | Orders -> Billing, Analytics
        """,
        style="choreography",
        reason="broker `Kafka`",
        choreography="""
            Orders
              start
                publish OrderPlaced -> Kafka
            Billing
              on OrderPlaced from Orders
            Analytics
              on OrderPlaced from Orders
        """,
        orchestration="""
            workflow Orchestrator (synthetic)
              publish "OrderPlaced" -> Kafka (for Orders)
              call Billing.order_placed "OrderPlaced (orders.v1)" (for Orders)
              call Analytics.order_placed "OrderPlaced (orders.v1)" (for Orders)
            Billing
              order_placed "OrderPlaced (orders.v1)"
            Analytics
              order_placed "OrderPlaced (orders.v1)"
        """,
    ),
    Case(
        "broker-ack.mmd",
        roles="* * event",
        hops="publish ack deliver",
        brokers=("Kafka",),
        # the broker's acknowledgement answers the publish; it delivers nothing to Orders
        events="""
            OrderPlaced | OrderPlaced | Kafka | Orders -> Billing
            ...
        """,
        style="choreography",
        reason="broker `Kafka`",
        choreography={
            "Billing": """
                Billing
                  on OrderPlaced from Orders
            """,
        },
        orchestration={
            "workflow Orchestrator (synthetic)": """
                workflow Orchestrator (synthetic)
                  publish "OrderPlaced" -> Kafka (for Orders)
                  call Billing.order_placed "OrderPlaced" (for Orders)
            """,
        },
    ),
    Case(
        "par-orchestration.mmd",
        roles="request request reply:1 request reply:3 event reply:0",
        events="""
            Fulfil order | FulfilOrder | fulfil-order | Orders -> Workflow
            Pick items | PickItems | pick-items | Workflow -> Warehouse
            Items picked | ItemsPicked | items-picked | Warehouse -> Workflow
            Issue invoice | IssueInvoice | issue-invoice | Workflow -> Billing
            Invoice issued | InvoiceIssued | invoice-issued | Billing -> Workflow
            Order in preparation | OrderInPreparation | order-in-preparation | Workflow -> Notifications
            Order fulfilled | OrderFulfilled | order-fulfilled | Workflow -> Orders
        """,  # noqa: E501
        style="orchestration",
        reason="`Workflow` is named like an orchestrator",
        # the Workflow's own par is checked in par-choreography.mmd (same bug); where a
        # join after a par belongs in a choreography is an open question
        choreography={
            "Orders": """
                Orders
                  start
                    publish Fulfil order -> Workflow
                  on Order fulfilled from Workflow
            """,
            "Warehouse": """
                Warehouse
                  on Pick items from Workflow
                    publish Items picked -> Workflow
            """,
            "Billing": """
                Billing
                  on Issue invoice from Workflow
                    publish Invoice issued -> Workflow
            """,
            "Notifications": """
                Notifications
                  on Order in preparation from Workflow
            """,
        },
        orchestration="""
            workflow Workflow
              started by "Fulfil order"
              par pick
                [pick]
                  call Warehouse.pick_items "Pick items" -> "Items picked"
                [invoice]
                  call Billing.issue_invoice "Issue invoice" -> "Invoice issued"
                [notify]
                  send Notifications.order_in_preparation "Order in preparation"
              reply Orders: "Order fulfilled"
            Warehouse
              pick_items "Pick items" -> "Items picked"
            Billing
              issue_invoice "Issue invoice" -> "Invoice issued"
            Notifications
              order_in_preparation "Order in preparation"
        """,
    ),
    Case(
        "par-choreography.mmd",
        roles="event event event event",
        events="""
            OrderPlaced | OrderPlaced | order-placed | Checkout -> Billing
            PaymentCaptured | PaymentCaptured | payment-captured | Billing -> Warehouse
            ParcelReserved | ParcelReserved | parcel-reserved | Warehouse -> Billing
            PointsEarned | PointsEarned | points-earned | Billing -> Loyalty
        """,
        style="choreography",
        reason="async events",
        # the par's sections run concurrently: each starts where the par starts, so
        # Billing awards the points in reaction to OrderPlaced, not to ParcelReserved
        choreography="""
            Checkout
              start
                publish OrderPlaced -> Billing
            Billing
              on OrderPlaced from Checkout
                par charge and ship
                  [charge and ship]
                    publish PaymentCaptured -> Warehouse
                  [award points]
                    publish PointsEarned -> Loyalty
              on ParcelReserved from Warehouse
            Warehouse
              on PaymentCaptured from Billing
                publish ParcelReserved -> Billing
            Loyalty
              on PointsEarned from Billing
        """,
        orchestration="""
            workflow Orchestrator (synthetic)
              send Billing.order_placed "OrderPlaced" (for Checkout)
              par charge and ship
                [charge and ship]
                  send Warehouse.payment_captured "PaymentCaptured" (for Billing)
                  send Billing.parcel_reserved "ParcelReserved" (for Warehouse)
                [award points]
                  send Loyalty.points_earned "PointsEarned" (for Billing)
            Billing
              order_placed "OrderPlaced"
              parcel_reserved "ParcelReserved"
            Warehouse
              payment_captured "PaymentCaptured"
            Loyalty
              points_earned "PointsEarned"
        """,
    ),
    Case(
        "loop-retries.mmd",
        roles="request reply:0 event self event",
        events="""
            POST /hooks/shipped | PostHooksShipped | post-hooks-shipped | Dispatcher -> Partner
            HTTP status | HttpStatus | http-status | Partner -> Dispatcher
            Mark delivered | MarkDelivered | mark-delivered | Dispatcher -> Log
            Move to dead letters | MoveToDeadLetters | move-to-dead-letters | Dispatcher -> Log
        """,
        style="orchestration",
        reason="2 of 4 messages are request/reply pairs, centred on `Dispatcher`",
        # Dispatcher's retry loop spans a receipt: see test_choreography_retry_loop_resends
        choreography={
            "Partner": """
                Partner
                  on POST /hooks/shipped from Dispatcher
                    publish HTTP status -> Dispatcher
            """,
            "Log": """
                Log
                  on Mark delivered from Dispatcher
                  on Move to dead letters from Dispatcher
            """,
        },
        orchestration="""
            workflow Dispatcher
              loop up to 5 attempts
                [up to 5 attempts]
                  call Partner.post_hooks_shipped "POST /hooks/shipped" -> "HTTP status"
                  break 2xx received
                    [2xx received]
                      call Log.mark_delivered "Mark delivered"
                  step Back off
              opt every attempt failed
                [every attempt failed]
                  call Log.move_to_dead_letters "Move to dead letters"
            Partner
              post_hooks_shipped "POST /hooks/shipped" -> "HTTP status"
            Log
              mark_delivered "Mark delivered"
              move_to_dead_letters "Move to dead letters"
        """,
    ),
    Case(
        "critical-option.mmd",
        roles="request request reply:1 reply:0 event reply:0 self reply:0",
        events="""
            Transfer 100 EUR | Transfer100Eur | transfer-100-eur | API -> Ledger
            Debit A and credit B | DebitAAndCreditB | debit-a-and-credit-b | Ledger -> DB
            Rows updated | RowsUpdated | rows-updated | DB -> Ledger
            Transfer booked | TransferBooked | transfer-booked | Ledger -> API
            ROLLBACK | Rollback | rollback | Ledger -> DB
            Retry later | RetryLater | retry-later | Ledger -> API
            Rejected | Rejected | rejected | Ledger -> API
        """,
        style="orchestration",
        reason="centred on `Ledger`",
        choreography="""
            API
              start
                publish Transfer 100 EUR -> Ledger
              on Transfer booked from Ledger
              on Retry later from Ledger
              on Rejected from Ledger
            Ledger
              on Transfer 100 EUR from API
                critical one transaction
                  [one transaction]
                    publish Debit A and credit B -> DB
                  [lock timeout]
                    publish ROLLBACK -> DB
                    publish Retry later -> API
                  [insufficient funds]
                    step Release row locks
                    publish Rejected -> API
              on Rows updated from DB
                only if no option of the critical ran already
                publish Transfer booked -> API
            DB
              on Debit A and credit B from Ledger
                publish Rows updated -> Ledger
              on ROLLBACK from Ledger
        """,
        orchestration="""
            workflow Ledger
              started by "Transfer 100 EUR"
              critical one transaction
                [one transaction]
                  call DB.debit_a_and_credit_b "Debit A and credit B" -> "Rows updated"
                  reply API: "Transfer booked"
                [lock timeout]
                  call DB.rollback "ROLLBACK"
                  reply API: "Retry later"
                [insufficient funds]
                  step Release row locks
                  reply API: "Rejected"
            DB
              debit_a_and_credit_b "Debit A and credit B" -> "Rows updated"
              rollback "ROLLBACK"
        """,
    ),
    Case(
        "nested-activations.mmd",
        roles="request request reply:1 request request reply:4 request reply:6 event "
              "reply:3 reply:0",
        events="""
            GET /products/42 | GetProducts42 | get-products-42 | Browser -> GW
            Check session | CheckSession | check-session | GW -> Auth
            Session valid | SessionValid | session-valid | Auth -> GW
            Get product | GetProduct | get-product | GW -> Catalog
            Lookup product | LookupProduct | lookup-product | Catalog -> Cache
            Cache miss | CacheMiss | cache-miss | Cache -> Catalog
            Select product | SelectProduct | select-product | Catalog -> DB
            Product row | ProductRow | product-row | DB -> Catalog
            Store product | StoreProduct | store-product | Catalog -> Cache
            Product | Product | product | Catalog -> GW
            200 OK | Event200Ok | 200-ok | GW -> Browser
        """,
        style="orchestration",
        reason="centred on `GW`",
        choreography="""
            Browser
              start
                publish GET /products/42 -> GW
              on 200 OK from GW
            GW
              on GET /products/42 from Browser
                publish Check session -> Auth
              on Session valid from Auth
                publish Get product -> Catalog
              on Product from Catalog
                publish 200 OK -> Browser
            Auth
              on Check session from GW
                publish Session valid -> GW
            Catalog
              on Get product from GW
                publish Lookup product -> Cache
              on Cache miss from Cache
                publish Select product -> DB
              on Product row from DB
                publish Store product -> Cache
                publish Product -> GW
            Cache
              on Lookup product from Catalog
                publish Cache miss -> Catalog
              on Store product from Catalog
            DB
              on Select product from Catalog
                publish Product row -> Catalog
        """,
        # what Catalog calls while it is activated belongs to its operation
        orchestration="""
            workflow GW
              started by "GET /products/42"
              call Auth.check_session "Check session" -> "Session valid"
              call Catalog.get_product "Get product" -> "Product"
              reply Browser: "200 OK"
            Auth
              check_session "Check session" -> "Session valid"
            Catalog
              get_product "Get product" -> "Product"
                call Cache.lookup_product "Lookup product" -> "Cache miss"
                call DB.select_product "Select product" -> "Product row"
                send Cache.store_product "Store product"
            Cache
              lookup_product "Lookup product" -> "Cache miss"
              store_product "Store product"
            DB
              select_product "Select product" -> "Product row"
        """,
    ),
    Case(
        "self-steps.mmd",
        roles="self request self self reply:1 event self",
        events="""
            Create invoice | CreateInvoice | create-invoice | Scheduler -> Invoices
            Invoice created | InvoiceCreated | invoice-created | Invoices -> Scheduler
            Email invoice to customer | EmailInvoiceToCustomer | email-invoice-to-customer | Scheduler -> Mailer
        """,  # noqa: E501
        style="orchestration",
        reason="centred on `Scheduler`",
        choreography="""
            Scheduler
              start
                step Find due subscriptions
                publish Create invoice -> Invoices
              on Invoice created from Invoices
                publish Email invoice to customer -> Mailer
            Invoices
              on Create invoice from Scheduler
                step Compute taxes
                step Render PDF
                publish Invoice created -> Scheduler
            Mailer
              on Email invoice to customer from Scheduler
                step Queue email
        """,
        # Mailer queues the email on its own, in reaction to the message it was sent
        orchestration="""
            workflow Scheduler
              step Find due subscriptions
              call Invoices.create_invoice "Create invoice" -> "Invoice created"
              send Mailer.email_invoice_to_customer "Email invoice to customer"
            Invoices
              create_invoice "Create invoice" -> "Invoice created"
                step Compute taxes
                step Render PDF
            Mailer
              email_invoice_to_customer "Email invoice to customer"
                step Queue email
        """,
    ),
    Case(
        "undeclared.mmd",
        roles="request request reply:1 self reply:0",
        events="""
            Login | Login | login | Client -> Auth
            Find user | FindUser | find-user | Auth -> Users
            User record | UserRecord | user-record | Users -> Auth
            Session token | SessionToken | session-token | Auth -> Client
        """,
        style="orchestration",
        reason="4 of 4 messages are request/reply pairs, centred on `Auth`",
        choreography="""
            Client
              start
                publish Login -> Auth
              on Session token from Auth
            Auth
              on Login from Client
                publish Find user -> Users
              on User record from Users
                step Check password hash
                publish Session token -> Client
            Users
              on Find user from Auth
                publish User record -> Auth
        """,
        orchestration="""
            workflow Auth
              started by "Login"
              call Users.find_user "Find user" -> "User record"
              step Check password hash
              reply Client: "Session token"
            Users
              find_user "Find user" -> "User record"
        """,
    ),
    Case(
        "solid-replies.mmd",
        roles="request request reply:1 reply:0 request reply:4",
        events="""
            Get order 7 | GetOrder7 | get-order-7 | Web -> Orders
            Check availability | CheckAvailability | check-availability | Orders -> Stock
            Available | Available | available | Stock -> Orders
            Order 7 | Order7 | order-7 | Orders -> Web
            Cancel order 7 | CancelOrder7 | cancel-order-7 | Web -> Orders
            Cancelled | Cancelled | cancelled | Orders -> Web
        """,
        style="orchestration",
        reason="6 of 6 messages are request/reply pairs, centred on `Orders`",
        choreography="""
            Web
              start
                publish Get order 7 -> Orders
              on Order 7 from Orders
                publish Cancel order 7 -> Orders
              on Cancelled from Orders
            Orders
              on Get order 7 from Web
                publish Check availability -> Stock
              on Available from Stock
                publish Order 7 -> Web
              on Cancel order 7 from Web
                publish Cancelled -> Web
            Stock
              on Check availability from Orders
                publish Available -> Orders
        """,
        orchestration="""
            workflow Orders
              started by "Get order 7"
              call Stock.check_availability "Check availability" -> "Available"
              reply Web: "Order 7"
              await Web: "Cancel order 7"
              reply Web: "Cancelled"
            Stock
              check_availability "Check availability" -> "Available"
        """,
    ),
    Case(
        "unicode-names.mmd",
        roles="event self request reply:2 event",
        events="""
            Bestellung aufgegeben | BestellungAufgegeben | bestellung-aufgegeben | Café -> Küche
            配達を依頼 | * | * | Küche -> 配送
            配達完了 | * | * | 配送 -> Küche
            Bestellung fertig ✅ | BestellungFertig | bestellung-fertig | Küche -> Café
        """,
        style="orchestration",
        reason="centred on `Küche`",
        choreography="""
            Café
              start
                publish Bestellung aufgegeben -> Küche
              on Bestellung fertig ✅ from Küche
            Küche
              on Bestellung aufgegeben from Café
                step Zubereiten 🍳
                publish 配達を依頼 -> 配送
              on 配達完了 from 配送
                publish Bestellung fertig ✅ -> Café
            配送
              on 配達を依頼 from Küche
                publish 配達完了 -> Küche
        """,
        orchestration="""
            workflow Küche
              started by "Bestellung aufgegeben"
              step Zubereiten 🍳
              call 配送.operation "配達を依頼" -> "配達完了"
              send Café.bestellung_fertig "Bestellung fertig ✅"
            配送
              operation "配達を依頼" -> "配達完了"
            Café
              bestellung_fertig "Bestellung fertig ✅"
        """,
    ),
    Case(
        "async-events.mmd",
        roles="event event event event event event event event",
        events="""
            RideRequested | RideRequested | ride-requested | Rider -> Trips
            TripCreated | TripCreated | trip-created | Trips -> Pricing
            FareQuoted | FareQuoted | fare-quoted | Pricing -> Trips
            DriverSearchStarted | DriverSearchStarted | driver-search-started | Trips -> Matching
            DriverAssigned | DriverAssigned | driver-assigned | Matching -> Trips
            Driver on the way | DriverOnTheWay | driver-on-the-way | Trips -> Rider
            NoDriverAvailable | NoDriverAvailable | no-driver-available | Matching -> Trips
            No driver found | NoDriverFound | no-driver-found | Trips -> Rider
        """,
        style="choreography",
        reason="async events",
        choreography="""
            Rider
              start
                publish RideRequested -> Trips
              on Driver on the way from Trips
              on No driver found from Trips
            Trips
              on RideRequested from Rider
                publish TripCreated -> Pricing
              on FareQuoted from Pricing
                publish DriverSearchStarted -> Matching
              on DriverAssigned from Matching
                publish Driver on the way -> Rider
              on NoDriverAvailable from Matching
                publish No driver found -> Rider
            Pricing
              on TripCreated from Trips
                publish FareQuoted -> Trips
            Matching
              on DriverSearchStarted from Trips
                alt driver accepted
                  [driver accepted]
                    publish DriverAssigned -> Trips
                  [nobody accepted]
                    publish NoDriverAvailable -> Trips
        """,
        orchestration="""
            workflow Orchestrator (synthetic)
              send Trips.ride_requested "RideRequested" (for Rider)
              send Pricing.trip_created "TripCreated" (for Trips)
              send Trips.fare_quoted "FareQuoted" (for Pricing)
              send Matching.driver_search_started "DriverSearchStarted" (for Trips)
              alt driver accepted
                [driver accepted]
                  send Trips.driver_assigned "DriverAssigned" (for Matching)
                  send Rider.driver_on_the_way "Driver on the way" (for Trips)
                [nobody accepted]
                  send Trips.no_driver_available "NoDriverAvailable" (for Matching)
                  send Rider.no_driver_found "No driver found" (for Trips)
            Trips
              ride_requested "RideRequested"
              fare_quoted "FareQuoted"
              driver_assigned "DriverAssigned"
              no_driver_available "NoDriverAvailable"
            Pricing
              trip_created "TripCreated"
            Matching
              driver_search_started "DriverSearchStarted"
            Rider
              driver_on_the_way "Driver on the way"
              no_driver_found "No driver found"
        """,
    ),
    Case(
        "gateway-client.mmd",
        roles="request request reply:1 request self reply:3 reply:0",
        events="""
            POST /orders | PostOrders | post-orders | User -> GW
            Validate token | ValidateToken | validate-token | GW -> Auth
            Token valid | TokenValid | token-valid | Auth -> GW
            Create order | CreateOrder | create-order | GW -> Orders
            Order created | OrderCreated | order-created | Orders -> GW
            201 Created | Event201Created | 201-created | GW -> User
        """,
        style="orchestration",
        reason="6 of 6 messages are request/reply pairs, centred on `GW`",
        choreography="""
            User
              start
                publish POST /orders -> GW
              on 201 Created from GW
            GW
              on POST /orders from User
                publish Validate token -> Auth
              on Token valid from Auth
                publish Create order -> Orders
              on Order created from Orders
                publish 201 Created -> User
            Auth
              on Validate token from GW
                publish Token valid -> GW
            Orders
              on Create order from GW
                step Validate basket
                publish Order created -> GW
        """,
        orchestration="""
            workflow GW
              started by "POST /orders"
              call Auth.validate_token "Validate token" -> "Token valid"
              call Orders.create_order "Create order" -> "Order created"
              reply User: "201 Created"
            Auth
              validate_token "Validate token" -> "Token valid"
            Orders
              create_order "Create order" -> "Order created"
                step Validate basket
        """,
    ),
    Case(
        "alt-continuation.mmd",
        roles="event event event self event",
        events="""
            OrderPaid | OrderPaid | order-paid | Orders -> Shipping
            BookCourier | BookCourier | book-courier | Shipping -> Courier
            CourierBooked | CourierBooked | courier-booked | Courier -> Shipping
            ShipmentScheduled | ShipmentScheduled | shipment-scheduled | Shipping -> Orders
        """,
        style="choreography",
        reason="async events",
        # on the express path Shipping's next receipt is CourierBooked: ShipmentScheduled
        # after the alt belongs to that handler there, and to the OrderPaid handler only
        # on the standard path
        choreography="""
            Orders
              start
                publish OrderPaid -> Shipping
              on ShipmentScheduled from Shipping
            Shipping
              on OrderPaid from Orders
                alt express
                  [express]
                    publish BookCourier -> Courier
                  [standard]
                    step Add to next truck
                    publish ShipmentScheduled -> Orders
              on CourierBooked from Courier
                publish ShipmentScheduled -> Orders
            Courier
              on BookCourier from Shipping
                publish CourierBooked -> Shipping
        """,
        orchestration="""
            workflow Orchestrator (synthetic)
              send Shipping.order_paid "OrderPaid" (for Orders)
              alt express
                [express]
                  send Courier.book_courier "BookCourier" (for Shipping)
                  send Shipping.courier_booked "CourierBooked" (for Courier)
                [standard]
                  call Shipping.add_to_next_truck "Add to next truck" (for Shipping)
              send Orders.shipment_scheduled "ShipmentScheduled" (for Shipping)
            Shipping
              order_paid "OrderPaid"
              courier_booked "CourierBooked"
              add_to_next_truck "Add to next truck"
            Courier
              book_courier "BookCourier"
            Orders
              shipment_scheduled "ShipmentScheduled"
        """,
    ),
    Case(
        "alt-at-start.mmd",
        roles="event event event",
        events="""
            CardPaymentRequested | CardPaymentRequested | card-payment-requested | Shop -> Payments
            PayPalPaymentRequested | PayPalPaymentRequested | pay-pal-payment-requested | Shop -> Payments
            PaymentCompleted | PaymentCompleted | payment-completed | Payments -> Shop
        """,  # noqa: E501
        style="choreography",
        reason="async events",
        choreography="""
            Shop
              start
                alt card
                  [card]
                    publish CardPaymentRequested -> Payments
                  [PayPal]
                    publish PayPalPaymentRequested -> Payments
              on PaymentCompleted from Payments
            Payments
              on CardPaymentRequested from Shop
                publish PaymentCompleted -> Shop
              on PayPalPaymentRequested from Shop
                publish PaymentCompleted -> Shop
        """,
        orchestration="""
            workflow Orchestrator (synthetic)
              alt card
                [card]
                  send Payments.card_payment_requested "CardPaymentRequested" (for Shop)
                [PayPal]
                  send Payments.pay_pal_payment_requested "PayPalPaymentRequested" (for Shop)
              send Shop.payment_completed "PaymentCompleted" (for Payments)
            Payments
              card_payment_requested "CardPaymentRequested"
              pay_pal_payment_requested "PayPalPaymentRequested"
            Shop
              payment_completed "PaymentCompleted"
        """,
    ),
    Case(
        "opt-continuation.mmd",
        roles="event event event event",
        events="""
            OrderPaid | OrderPaid | order-paid | Orders -> Shipping
            DeclarationFiled | DeclarationFiled | declaration-filed | Shipping -> Customs
            DeclarationCleared | DeclarationCleared | declaration-cleared | Customs -> Shipping
            ShipmentScheduled | ShipmentScheduled | shipment-scheduled | Shipping -> Orders
        """,
        style="choreography",
        reason="async events",
        # Shipping's handlers: see test_choreography_opt_not_taken_continues
        choreography={
            "Orders": """
                Orders
                  start
                    publish OrderPaid -> Shipping
                  on ShipmentScheduled from Shipping
            """,
            "Customs": """
                Customs
                  on DeclarationFiled from Shipping
                    publish DeclarationCleared -> Shipping
            """,
        },
        orchestration="""
            workflow Orchestrator (synthetic)
              send Shipping.order_paid "OrderPaid" (for Orders)
              opt international address
                [international address]
                  send Customs.declaration_filed "DeclarationFiled" (for Shipping)
                  send Shipping.declaration_cleared "DeclarationCleared" (for Customs)
              send Orders.shipment_scheduled "ShipmentScheduled" (for Shipping)
            Shipping
              order_paid "OrderPaid"
              declaration_cleared "DeclarationCleared"
            Customs
              declaration_filed "DeclarationFiled"
            Orders
              shipment_scheduled "ShipmentScheduled"
        """,
    ),
    Case(
        "duplicate-handler.mmd",
        roles="event event self event event",
        events="""
            CartChanged | CartChanged | cart-changed | Cart -> Pricing
            PriceCalculated | PriceCalculated | price-calculated | Pricing -> Cart
        """,
        style="choreography",
        reason="async events",
        # one handler per event a service consumes (product.md section 5); how Cart's two
        # different reactions to PriceCalculated merge is an open question
        choreography={
            "Pricing": """
                Pricing
                  on CartChanged from Cart
                    publish PriceCalculated -> Cart
            """,
        },
        orchestration="""
            workflow Orchestrator (synthetic)
              send Pricing.cart_changed "CartChanged" (for Cart)
              send Cart.price_calculated "PriceCalculated" (for Pricing)
              call Cart.apply_coupon "Apply coupon" (for Cart)
              send Pricing.cart_changed "CartChanged" (for Cart)
              send Cart.price_calculated "PriceCalculated" (for Pricing)
            Pricing
              cart_changed "CartChanged"
            Cart
              price_calculated "PriceCalculated"
              apply_coupon "Apply coupon"
        """,
    ),
    Case(
        "alt-requests.mmd",
        roles="request request reply:?",
        events="""
            Create account | CreateAccount | create-account | Web -> Accounts
            Load account | LoadAccount | load-account | Web -> Accounts
            Account | Account | account | Accounts -> Web
        """,
        style="orchestration",
        reason="centred on `Web`",
        choreography="""
            Web
              start
                alt new customer
                  [new customer]
                    publish Create account -> Accounts
                  [returning customer]
                    publish Load account -> Accounts
              on Account from Accounts
            Accounts
              on Create account from Web
                publish Account -> Web
              on Load account from Web
                publish Account -> Web
        """,
        orchestration="""
            workflow Web
              alt new customer
                [new customer]
                  call Accounts.create_account "Create account" -> "Account"
                [returning customer]
                  call Accounts.load_account "Load account" -> "Account"
            Accounts
              create_account "Create account" -> "Account"
              load_account "Load account" -> "Account"
        """,
        diagnostics=(),
    ),
    Case(
        "lost-message.mmd",
        roles="request lost reply:0",
        events="""
            Health check | HealthCheck | health-check | Monitor -> Worker
            Heartbeat | Heartbeat | heartbeat | Worker -> *
            Healthy | Healthy | healthy | Worker -> Monitor
        """,
        style="orchestration",
        reason="centred on `Monitor`",
        # a lost message (`-x`) never arrives: it answers nothing and triggers no handler
        choreography="""
            Monitor
              start
                publish Health check -> Worker
              on Healthy from Worker
            Worker
              on Health check from Monitor
                publish Heartbeat -> Monitor
                publish Healthy -> Monitor
        """,
        # in orchestration too: the Worker sends it while it handles the check (the
        # contract expects it in the trace) and it reaches nobody: no operation of Monitor
        orchestration="""
            workflow Monitor
              call Worker.health_check "Health check" -> "Healthy"
            Worker
              health_check "Health check" -> "Healthy"
                lost "Heartbeat" -> Monitor
        """,
    ),
    Case(
        "webhook-await.mmd",
        roles="request request reply:1 event request reply:4 event event reply:0",
        events="""
            Start payment | StartPayment | start-payment | Shop -> WF
            Create payment intent | CreatePaymentIntent | create-payment-intent | WF -> PSP
            Intent created | IntentCreated | intent-created | PSP -> WF
            payment_intent.succeeded | PaymentIntentSucceeded | payment-intent-succeeded | PSP -> WF
            Flag for review | FlagForReview | flag-for-review | WF -> Ledger
            Flagged | Flagged | flagged | Ledger -> WF
            Refund payment | RefundPayment | refund-payment | WF -> PSP
            Book payment | BookPayment | book-payment | WF -> Ledger
            Payment done | PaymentDone | payment-done | WF -> Shop
        """,
        style="orchestration",
        reason="`WF` is labelled like an orchestrator (`Payment Workflow`)",
        # WF's own handlers need the opt continuation (see opt-continuation.mmd)
        choreography={
            "Shop": """
                Shop
                  start
                    publish Start payment -> WF
                  on Payment done from WF
            """,
            "PSP": """
                PSP
                  on Create payment intent from WF
                    publish Intent created -> WF
                    # the customer confirms in the browser
                    publish payment_intent.succeeded -> WF
                  on Refund payment from WF
            """,
            "Ledger": """
                Ledger
                  on Flag for review from WF
                    publish Flagged -> WF
                  on Book payment from WF
            """,
        },
        orchestration="""
            workflow WF
              started by "Start payment"
              call PSP.create_payment_intent "Create payment intent" -> "Intent created"
              # the customer confirms in the browser
              await PSP: "payment_intent.succeeded"
              opt amount above 1000 EUR
                [amount above 1000 EUR]
                  call Ledger.flag_for_review "Flag for review" -> "Flagged"
              break refund requested meanwhile
                [refund requested meanwhile]
                  call PSP.refund_payment "Refund payment"
              call Ledger.book_payment "Book payment"
              reply Shop: "Payment done"
            PSP
              create_payment_intent "Create payment intent" -> "Intent created"
              refund_payment "Refund payment"
            Ledger
              flag_for_review "Flag for review" -> "Flagged"
              book_payment "Book payment"
        """,
    ),
    Case(
        "hidden-choice.mmd",
        roles="event event event event",
        events="""
            OrderPlaced | OrderPlaced | order-placed | Orders -> Payments
            PaymentCaptured | PaymentCaptured | payment-captured | Payments -> Orders
            ParcelShipped | ParcelShipped | parcel-shipped | Warehouse -> Orders
            PaymentDeclined | PaymentDeclined | payment-declined | Payments -> Orders
        """,
        style="choreography",
        reason="async events",
        choreography={
            "Payments": """
                Payments
                  on OrderPlaced from Orders
                    alt paid
                      [paid]
                        publish PaymentCaptured -> Orders
                      [declined]
                        publish PaymentDeclined -> Orders
            """,
        },
        orchestration="""
            workflow Orchestrator (synthetic)
              send Payments.order_placed "OrderPlaced" (for Orders)
              alt paid
                [paid]
                  send Orders.payment_captured "PaymentCaptured" (for Payments)
                  send Orders.parcel_shipped "ParcelShipped" (for Warehouse)
                [declined]
                  send Orders.payment_declined "PaymentDeclined" (for Payments)
            Payments
              order_placed "OrderPlaced"
            Orders
              payment_captured "PaymentCaptured"
              parcel_shipped "ParcelShipped"
              payment_declined "PaymentDeclined"
        """,
        # Warehouse ships only when Payments chose `paid`, but nothing tells Warehouse
        diagnostics=(("unrealizable-choice", 8),),
    ),
    Case(
        "explicit-activation.mmd",
        roles="request event reply:0",
        events="""
            Cancel order 7 | CancelOrder7 | cancel-order-7 | Web -> Orders
            Record cancellation | RecordCancellation | record-cancellation | Orders -> Audit
            Cancelled | Cancelled | cancelled | Orders -> Web
        """,
        style="orchestration",
        reason="centred on `Web`",
        choreography="""
            Web
              start
                publish Cancel order 7 -> Orders
              on Cancelled from Orders
            Orders
              on Cancel order 7 from Web
                publish Record cancellation -> Audit
                publish Cancelled -> Web
            Audit
              on Record cancellation from Orders
        """,
        # `activate`/`deactivate` make `Cancelled` the reply although Orders sent
        # something nobody answers in between
        orchestration="""
            workflow Web
              call Orders.cancel_order_7 "Cancel order 7" -> "Cancelled"
            Orders
              cancel_order_7 "Cancel order 7" -> "Cancelled"
                call Audit.record_cancellation "Record cancellation"
            Audit
              record_cancellation "Record cancellation"
        """,
    ),
    Case(
        "create-destroy.mmd",
        roles="request request reply:1 destroy reply:0",
        events="""
            Export customer data | ExportCustomerData | export-customer-data | API -> Pool
            Run export | RunExport | run-export | Pool -> Job
            Export written | ExportWritten | export-written | Job -> Pool
            Shut down | ShutDown | shut-down | Pool -> Job
            Download link | DownloadLink | download-link | Pool -> API
        """,
        style="orchestration",
        reason="centred on `Pool`",
        choreography="""
            API
              start
                publish Export customer data -> Pool
              on Download link from Pool
            Pool
              on Export customer data from API
                publish Run export -> Job
              on Export written from Job
                publish Shut down -> Job
                publish Download link -> API
            Job
              on Run export from Pool
                publish Export written -> Pool
              on Shut down from Pool
        """,
        orchestration="""
            workflow Pool
              started by "Export customer data"
              call Job.run_export "Run export" -> "Export written"
              call Job.shut_down "Shut down"
              reply API: "Download link"
            Job
              run_export "Run export" -> "Export written"
              shut_down "Shut down"
        """,
    ),
    Case(
        "function-call-text.mmd",
        roles="request reply:0",
        # `findById(42)` is a call with an argument, not `Event (topic)`
        events="""
            findById(42) | FindById42 | find-by-id-42 | Catalog -> Repo
            Product | Product | product | Repo -> Catalog
        """,
        style="orchestration",
        reason="centred on `Catalog`",
        choreography="""
            Catalog
              start
                publish findById(42) -> Repo
              on Product from Repo
            Repo
              on findById(42) from Catalog
                publish Product -> Catalog
        """,
        orchestration="""
            workflow Catalog
              call Repo.find_by_id_42 "findById(42)" -> "Product"
            Repo
              find_by_id_42 "findById(42)" -> "Product"
        """,
    ),
    Case(
        "command-verbs.mmd",
        roles="request reply:0 event event",
        # a command's verb is part of its name; only pub/sub wording on broker hops is not
        events="""
            Create invoice | CreateInvoice | create-invoice | Orders -> Billing
            Invoice | Invoice | invoice | Billing -> Orders
            Send invoice | SendInvoice | send-invoice | Orders -> Mailer
            Notify customer | NotifyCustomer | notify-customer | Orders -> Mailer
        """,
        style="orchestration",
        reason="centred on `Orders`",
        choreography="""
            Orders
              start
                publish Create invoice -> Billing
              on Invoice from Billing
                publish Send invoice -> Mailer
                publish Notify customer -> Mailer
            Billing
              on Create invoice from Orders
                publish Invoice -> Orders
            Mailer
              on Send invoice from Orders
              on Notify customer from Orders
        """,
        orchestration="""
            workflow Orders
              call Billing.create_invoice "Create invoice" -> "Invoice"
              send Mailer.send_invoice "Send invoice"
              send Mailer.notify_customer "Notify customer"
            Billing
              create_invoice "Create invoice" -> "Invoice"
            Mailer
              send_invoice "Send invoice"
              notify_customer "Notify customer"
        """,
    ),
]


def params(aspect: str) -> list:
    out = []
    for case in CASES:
        marks = ()
        if aspect in case.bugs:
            marks = (pytest.mark.xfail(strict=True, reason=case.bugs[aspect]),)
        out.append(pytest.param(case, id=case.file.removesuffix(".mmd"), marks=marks))
    return out


def test_cases_cover_every_diagram():
    assert sorted(c.file for c in CASES) == sorted(p.name for p in DIAGRAMS.glob("*.mmd"))
    assert len(CASES) >= 25


def _masked(actual: list[str], expected: list[str]) -> list[str]:
    """`actual`, with the wildcards of `expected` (`*`, `reply:?`) copied over it."""
    out = []
    for got, want in zip(actual, expected, strict=False):
        if want == "*" or (want == "reply:?" and got.startswith("reply:")):
            got = want
        out.append(got)
    return out + actual[len(expected):]


@pytest.mark.parametrize("case", params("roles"))
def test_roles(case: Case):
    a = analysed(case.path)
    expected = case.roles.split()
    assert _masked(roles_of(a), expected) == expected
    for m in a.messages:  # requests and replies point at each other
        if m.reply_to is not None:
            assert m.index in a.messages[m.reply_to].replies
    if case.hops is not None:
        assert [m.hop or "-" for m in a.messages] == case.hops.split()
    assert a.brokers == case.brokers


def _expected_events(text: str) -> list[tuple]:
    out = []
    for line in block(text).split("\n"):
        if line.strip() == "...":
            continue
        name, class_name, channel, flow = (part.strip() for part in line.split("|"))
        producers, consumers = (tuple(p.strip() for p in side.split(",") if p.strip())
                                for side in flow.split("->"))
        out.append((name, class_name, channel, producers, consumers))
    return out


@pytest.mark.parametrize("case", params("events"))
def test_events(case: Case):
    actual = [(e.name, e.class_name, e.channel, e.producers, e.consumers)
              for e in analysed(case.path).events]
    expected = _expected_events(case.events)
    if block(case.events).endswith("..."):  # only these events are specified
        by_name = {e[0]: e for e in actual}
        actual = [by_name.get(want[0], (want[0],)) for want in expected]
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert [w if w in ("*", ("*",)) else g for g, w in zip(got, want, strict=False)] \
            == list(want)


@pytest.mark.parametrize("case", params("style"))
def test_style(case: Case):
    style = analysed(case.path).style
    assert style.style == case.style
    assert case.reason in style.reason


def _compare(actual: str, expected: str | dict[str, str]) -> None:
    if isinstance(expected, str):
        assert actual == block(expected)
        return
    got = sections(actual)
    for name, want in expected.items():
        assert got.get(name) == block(want)


@pytest.mark.parametrize("case", params("choreography"))
def test_choreography(case: Case):
    _compare(choreography_of(analysed(case.path)), case.choreography)


@pytest.mark.parametrize("case", params("orchestration"))
def test_orchestration(case: Case):
    _compare(orchestration_of(analysed(case.path)), case.orchestration)


@pytest.mark.parametrize("case", params("diagnostics"))
def test_diagnostics(case: Case):
    found = [(d.code, d.span.line) for d in analysed(case.path).diagnostics]
    assert found == list(case.diagnostics)


# --- the seeds -----------------------------------------------------------------------------

SEED_A_CHOREOGRAPHY = """
    ServiceA
      start
        publish Event 1 -> ServiceB
      on Event 3 from ServiceC
      on Event 4 from ServiceB
    ServiceB
      on Event 1 from ServiceA
        publish Event 2 -> ServiceC
        publish Event 4 -> ServiceA
      on Event 5 from ServiceC
    ServiceC
      on Event 2 from ServiceB
        publish Event 3 -> ServiceA
        publish Event 5 -> ServiceB
"""

SEED_A_ORCHESTRATION = """
    workflow Orchestrator (synthetic)
      call ServiceB.event_1 "Event 1" (for ServiceA)
      call ServiceC.event_2 "Event 2" (for ServiceB)
      call ServiceA.event_3 "Event 3" (for ServiceC)
      call ServiceA.event_4 "Event 4" (for ServiceB)
      call ServiceB.event_5 "Event 5" (for ServiceC)
    ServiceB
      event_1 "Event 1"
      event_5 "Event 5"
    ServiceC
      event_2 "Event 2"
    ServiceA
      event_3 "Event 3"
      event_4 "Event 4"
"""

SEED_B_ORCHESTRATION = """
    workflow Orchestrator
      call ServiceA.step_1 "Step 1" -> "Step 1 Completed"
      call ServiceB.step_2 "Step 2" -> "Step 2 Completed"
      call ServiceA.step_3 "Step 3" -> "Step 3 Completed"
      call ServiceB.step_4 "Step 4" -> "Step 4 Completed"
    ServiceA
      step_1 "Step 1" -> "Step 1 Completed"
      step_3 "Step 3" -> "Step 3 Completed"
    ServiceB
      step_2 "Step 2" -> "Step 2 Completed"
      step_4 "Step 4" -> "Step 4 Completed"
"""

SEED_B_CHOREOGRAPHY = """
    Orchestrator
      start
        publish Step 1 -> ServiceA
      on Step 1 Completed from ServiceA
        publish Step 2 -> ServiceB
      on Step 2 Completed from ServiceB
        publish Step 3 -> ServiceA
      on Step 3 Completed from ServiceA
        publish Step 4 -> ServiceB
      on Step 4 Completed from ServiceB
    ServiceA
      on Step 1 from Orchestrator
        publish Step 1 Completed -> Orchestrator
      on Step 3 from Orchestrator
        publish Step 3 Completed -> Orchestrator
    ServiceB
      on Step 2 from Orchestrator
        publish Step 2 Completed -> Orchestrator
      on Step 4 from Orchestrator
        publish Step 4 Completed -> Orchestrator
"""


def seed(name: str) -> Analysis:
    path = SEEDS / name
    if not path.exists():
        pytest.skip(f"the seed corpus is not beside the project ({SEEDS})")
    return analysed(path)


@pytest.mark.parametrize("name", ["choreography.mmd", "choreography-oneline.mmd"])
def test_seed_a(name: str):
    a = seed(name)
    assert roles_of(a) == ["event"] * 5
    assert choreography_of(a) == block(SEED_A_CHOREOGRAPHY)
    assert orchestration_of(a) == block(SEED_A_ORCHESTRATION)
    assert [(e.name, e.producers, e.consumers) for e in a.events] == [
        ("Event 1", ("ServiceA",), ("ServiceB",)),
        ("Event 2", ("ServiceB",), ("ServiceC",)),
        ("Event 3", ("ServiceC",), ("ServiceA",)),
        ("Event 4", ("ServiceB",), ("ServiceA",)),
        ("Event 5", ("ServiceC",), ("ServiceB",)),
    ]
    assert len({e.class_name for e in a.events}) == len({e.channel for e in a.events}) == 5
    assert a.style.style == "choreography"
    assert "request/reply" in a.style.reason
    assert projection.orchestration_of(a).synthetic


@pytest.mark.parametrize("name", ["orchestration.mmd", "orchestration-oneline.mmd"])
def test_seed_b(name: str):
    a = seed(name)
    assert roles_of(a) == ["request", "reply:0", "request", "reply:2", "request", "reply:4",
                           "request", "reply:6"]
    assert orchestration_of(a) == block(SEED_B_ORCHESTRATION)
    assert choreography_of(a) == block(SEED_B_CHOREOGRAPHY)
    assert projection.orchestration_of(a).orchestrator == "Orchestrator"
    assert not projection.orchestration_of(a).synthetic
    assert a.style == type(a.style)("orchestration", "`Orchestrator` is named like an "
                                                     "orchestrator")


@pytest.mark.parametrize("pair", [("choreography.mmd", "choreography-oneline.mmd"),
                                  ("orchestration.mmd", "orchestration-oneline.mmd")],
                         ids=["A", "B"])
def test_seed_oneline_form_means_the_same(pair: tuple[str, str]):
    multi, oneline = seed(pair[0]), seed(pair[1])
    assert [(d.code, d.severity, d.span.line) for d in oneline.diagnostics] == [
        ("flattened-diagram", "warning", 1)]
    assert multi.diagnostics == ()
    assert roles_of(multi) == roles_of(oneline)
    assert choreography_of(multi) == choreography_of(oneline)
    assert orchestration_of(multi) == orchestration_of(oneline)
    assert multi.style == oneline.style


# --- focused checks ------------------------------------------------------------------------


def test_compensation_steps_are_marked():
    workflow = projection.orchestration_of(analysed(DIAGRAMS / "saga-compensation.mmd")).workflow
    calls = {}
    stack = list(workflow)
    while stack:
        action = stack.pop()
        if isinstance(action, Fragment):
            stack.extend(a for b in action.branches for a in b.actions)
        elif isinstance(action, Call):
            calls[action.text] = action.compensation
    assert calls == {"Reserve stock": False, "Charge card": False, "Release stock": True}


def test_orchestrator_option_overrides_the_hub():
    path = DIAGRAMS / "gateway-client.mmd"
    a = analysed(path, "Order Service")  # by label
    assert projection.orchestration_of(a).orchestrator == "Orders"
    assert "--orchestrator" in projection.orchestration_of(a).reason
    with pytest.raises(UsageError):
        analysed(path, "Nobody")


def test_orchestrator_option_workflow_starts_at_its_trigger():
    a = analysed(DIAGRAMS / "gateway-client.mmd", "Orders")
    assert sections(orchestration_of(a))["workflow Orders"] == block("""
        workflow Orders
          started by "Create order"
          step Validate basket
          reply GW: "Order created"
    """)


def test_module_names_are_unique_identifiers():
    a = analysed(DIAGRAMS / "unicode-names.mmd")
    names = list(a.module_names.values())
    assert len(set(names)) == len(names)
    assert all(n.isidentifier() and n.isascii() for n in names)
    assert a.module_names["Küche"] == "kuche"


def test_every_event_has_its_own_channel():
    events = analysed(DIAGRAMS / "unicode-names.mmd").events
    assert len({e.channel for e in events}) == len(events)
    assert len({e.class_name for e in events}) == len(events)


def test_a_topic_may_be_labelled_or_named_after_to_on_or_from_on_a_broker_hop():
    # docs/notation.md, "Brokers and topics": `(topic: orders)` anywhere; on a hop to or
    # from a broker, a lower-case name after to/on/into/from/via ends the text
    events = of("""
        sequenceDiagram
            participant Orders
            participant Kafka
            participant Billing
            participant Mailer
            Orders->>Kafka: OrderPlaced (topic: orders)
            Kafka->>Billing: OrderPlaced
            Billing->>Kafka: Publish InvoiceIssued to billing.v1
            Kafka->>Mailer: Consume InvoiceIssued from billing.v1
            Mailer->>Kafka: ReceiptSent on receipts {receiptId}
            Kafka->>Orders: ReceiptSent
            Orders->>Kafka: Publish OrderClosed to Kafka
            Kafka->>Mailer: OrderClosed
            Mailer->>Billing: Email invoice to customer
            Billing->>Mailer: Refund (channel: refunds.v2)
        """).events
    assert [(e.name, e.class_name, e.channel, e.topic, e.producers, e.consumers)
            for e in events] == [
        ("OrderPlaced", "OrderPlaced", "orders", "orders", ("Orders",), ("Billing",)),
        ("InvoiceIssued", "InvoiceIssued", "billing.v1", "billing.v1", ("Billing",),
         ("Mailer",)),
        ("ReceiptSent", "ReceiptSent", "receipts", "receipts", ("Mailer",), ("Orders",)),
        # a capitalised name is a participant (here the broker itself), not a topic
        ("OrderClosed to Kafka", "OrderClosedToKafka", "Kafka", None, ("Orders",),
         ("Mailer",)),
        # between two services `to customer` is part of the message's name
        ("Email invoice to customer", "EmailInvoiceToCustomer", "email-invoice-to-customer",
         None, ("Mailer",), ("Billing",)),
        ("Refund (channel: refunds.v2)", "Refund", "refunds.v2", "refunds.v2", ("Billing",),
         ("Mailer",)),
    ]
    # the fields after the topic phrase are still the event's, and no field `topic` is read
    # out of `(topic: orders)`
    assert [f.name for f in events[2].fields] == ["receiptId"]
    assert events[0].fields == ()


def test_a_drawn_topic_is_told_apart_from_a_derived_channel():
    events = analysed(DIAGRAMS / "kafka-hop-texts.mmd").events
    assert [(e.channel, e.topic) for e in events] == [("orders.v1", "orders.v1"),
                                                      ("payments.v1", "payments.v1")]
    a = of("""
        sequenceDiagram
            Orders->>Kafka: OrderPlaced
            Kafka->>Billing: OrderPlaced
            Billing->>Mailer: Invoice issued
        """)
    assert [(e.channel, e.topic) for e in a.events] == [("Kafka", None),
                                                        ("invoice-issued", None)]


def test_choreography_retry_loop_resends():
    text = choreography_of(analysed(DIAGRAMS / "loop-retries.mmd"))
    handler = handler_block(text, "Dispatcher", "on HTTP status from Partner")
    assert "publish POST /hooks/shipped -> Partner" in handler


def test_choreography_opt_not_taken_continues():
    text = choreography_of(analysed(DIAGRAMS / "opt-continuation.mmd"))
    handler = handler_block(text, "Shipping", "on OrderPaid from Orders")
    assert "publish ShipmentScheduled -> Orders" in handler


# --- lint: every rule, one diagram that triggers it and a close one that does not -----------

LINT = {
    "undeclared-participant": (
        """
        sequenceDiagram
            participant Web
            participant Orders
            Web->>Orders: Place order
            Orders->>Payments: Charge card
        """,
        """
        sequenceDiagram
            participant Web
            participant Orders
            participant Payments
            Web->>Orders: Place order
            Orders->>Payments: Charge card
        """,
        "warning", 5,
    ),
    "unused-participant": (
        """
        sequenceDiagram
            participant Web
            participant Orders
            participant Legacy as Legacy ERP
            Web->>Orders: Place order
        """,
        """
        sequenceDiagram
            participant Web
            participant Orders
            participant Legacy as Legacy ERP
            Web->>Orders: Place order
            Note over Legacy: still reads the orders table
        """,
        "warning", 4,
    ),
    "deactivate-inactive": (
        """
        sequenceDiagram
            participant Web
            participant Payments
            Web->>Payments: Pay
            alt card
                activate Payments
                Payments-->>Web: Card charged
            else invoice
                Payments-->>Web: Invoice sent
                deactivate Payments
            end
        """,
        """
        sequenceDiagram
            participant Web
            participant Payments
            Web->>Payments: Pay
            activate Payments
            alt card
                Payments-->>Web: Card charged
            else invoice
                Payments-->>Web: Invoice sent
            end
            deactivate Payments
        """,
        "warning", 10,
    ),
    "unclosed-activation": (
        """
        sequenceDiagram
            participant Web
            participant Orders
            Web->>+Orders: Place order
            Orders-->>Web: Order accepted
        """,
        """
        sequenceDiagram
            participant Web
            participant Orders
            Web->>+Orders: Place order
            Orders-->>-Web: Order accepted
        """,
        "warning", 4,
    ),
    "reply-without-request": (
        """
        sequenceDiagram
            participant Web
            participant Orders
            Orders-->>Web: Order accepted
        """,
        """
        sequenceDiagram
            participant Web
            participant Orders
            Web->>Orders: Place order
            Orders-->>Web: Order accepted
        """,
        "warning", 4,
    ),
    "request-without-reply": (
        """
        sequenceDiagram
            participant Web
            participant Orders
            participant Stock
            Web->>+Orders: Place order
            Orders->>Stock: Reserve items
            deactivate Orders
        """,
        """
        sequenceDiagram
            participant Web
            participant Orders
            participant Stock
            Web->>+Orders: Place order
            Orders->>Stock: Reserve items
            Orders-->>-Web: Order accepted
        """,
        "warning", 5,
    ),
    "event-without-consumer": (
        """
        sequenceDiagram
            participant Orders
            participant Kafka
            participant Billing
            Orders->>Kafka: OrderPlaced
            Kafka->>Billing: OrderPlaced
            Billing->>Kafka: InvoiceIssued
        """,
        """
        sequenceDiagram
            participant Orders
            participant Kafka
            participant Billing
            Orders->>Kafka: OrderPlaced
            Kafka->>Billing: OrderPlaced
            Billing->>Kafka: InvoiceIssued
            Kafka->>Orders: InvoiceIssued
        """,
        "warning", 7,
    ),
    "unrealizable-choice": (
        """
        sequenceDiagram
            participant Orders
            participant Payments
            participant Stock
            Orders-)Payments: OrderPlaced
            alt paid
                Payments-)Orders: PaymentCaptured
            else out of stock
                Stock-)Orders: StockMissing
            end
        """,
        """
        sequenceDiagram
            participant Orders
            participant Payments
            participant Stock
            Orders-)Payments: OrderPlaced
            alt paid
                Payments-)Orders: PaymentCaptured
            else declined
                Payments-)Orders: PaymentDeclined
            end
        """,
        "warning", 9,
    ),
    "unordered-receipts": (
        """
        sequenceDiagram
            Orders->>Pay: Charge
            Orders->>Stock: Reserve
            Pay->>Orders: Charged
            Stock->>Orders: Reserved
            Orders->>Ship: Ship
        """,
        """
        sequenceDiagram
            Orders->>Pay: Charge
            Pay->>Orders: Charged
            Orders->>Stock: Reserve
            Stock->>Orders: Reserved
            Orders->>Ship: Ship
        """,
        "info", 5,
    ),
    "name-collision": (
        """
        sequenceDiagram
            participant Order Service
            participant order-service
            Order Service->>order-service: Sync orders
        """,
        """
        sequenceDiagram
            participant Order Service
            participant order-store
            Order Service->>order-store: Sync orders
        """,
        "warning", None,  # where: see test_name_collision_points_at_the_second_name
    ),
    "create-without-message": (
        """
        sequenceDiagram
            participant API
            API->>API: Validate request
            create participant Job
        """,
        """
        sequenceDiagram
            participant API
            API->>API: Validate request
            create participant Job
            API->>Job: Run export
        """,
        "info", 4,
    ),
    "empty-diagram": (
        """
        sequenceDiagram
            participant Web
            Note over Web: to do
        """,
        """
        sequenceDiagram
            participant Web
            Web->>Web: Render page
        """,
        "warning", 1,
    ),
    "flattened-diagram": (
        "sequenceDiagram participant A participant B A->>B: Event 1 B->>A: Event 2",
        """
        sequenceDiagram
            participant A
            participant B
            A->>B: Event 1
            B->>A: Event 2
        """,
        "warning", 1,
    ),
    "unknown-field-type": (
        """
        sequenceDiagram
            Orders-)Billing: OrderCreated(orderId, amount: Decmal)
        """,
        """
        sequenceDiagram
            Orders-)Billing: OrderCreated(orderId, amount: Decimal)
        """,
        "warning", 2,
    ),
}


def test_lint_table_covers_every_rule():
    assert sorted(LINT) == sorted(RULES)


@pytest.mark.parametrize("code", sorted(LINT))
def test_lint_rule_triggers(code: str):
    trigger, _, severity, line = LINT[code]
    found = [d for d in of(trigger).diagnostics if d.code == code]
    assert len(found) == 1, found
    assert found[0].severity == severity
    assert found[0].message
    if line is not None:
        assert found[0].span.line == line


@pytest.mark.parametrize("code", sorted(LINT))
def test_lint_rule_close_variant_is_clean(code: str):
    _, clean, _, _ = LINT[code]
    assert [d.code for d in of(clean).diagnostics if d.code == code] == []


def test_name_collision_points_at_the_second_name():
    trigger = LINT["name-collision"][0]
    (found,) = [d for d in of(trigger).diagnostics if d.code == "name-collision"]
    assert found.span.line == 3



def test_a_reply_ending_the_activation_in_one_branch_closes_it():
    """mermaid.js counts activations in drawing order, whatever the branch: the usual way
    to draw a reply in each branch is a `-` on the last one (a `-` on each is an error)."""
    a = of("""
        sequenceDiagram
            participant OS as Order Saga
            participant Pay
            OS->>+Pay: Charge card
            alt captured
                Pay-->>OS: Captured
            else declined
                Pay-->>-OS: Declined
            end
    """)
    assert [d.message for d in a.diagnostics if d.code == "unclosed-activation"] == []


def test_an_activation_left_open_is_still_reported_after_a_block():
    a = of("""
        sequenceDiagram
            participant OS as Order Saga
            participant Pay
            OS->>+Pay: Charge card
            alt captured
                Pay-->>OS: Captured
            else declined
                Pay-->>OS: Declined
            end
    """)
    (found,) = [d for d in a.diagnostics if d.code == "unclosed-activation"]
    assert found.span.line == 4 and "`Pay`" in found.message


def test_the_reason_says_when_a_label_looks_like_an_orchestrator():
    a = of("""
        sequenceDiagram
            participant OS as Order Saga
            participant Pay
            OS->>Pay: Charge card
    """)
    assert a.style.reason == "`OS` is labelled like an orchestrator (`Order Saga`)"
    assert of("""
        sequenceDiagram
            participant Saga as Order Saga
            Saga->>Pay: Charge card
    """).style.reason == "`Saga` is named like an orchestrator"

# --- the samples ---------------------------------------------------------------------------

SAMPLE_STYLES = {
    "order-saga.mmd": "orchestration",
    "payment-alternatives.mmd": "orchestration",
    "broker-fanout.mmd": "choreography",
    "parallel-fulfilment.mmd": "orchestration",
    "retries.mmd": "orchestration",
    "critical-section.mmd": "orchestration",
    "nested-calls.mmd": "orchestration",
    "signup-events.mmd": "choreography",
    "ride-request.mmd": "choreography",
    "return-refund.mmd": "choreography",
    "saga-reply-decides.mmd": "orchestration",
}


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.mmd")))
def test_sample_analyses_cleanly(name: str):
    path = SAMPLES / name
    text = path.read_text(encoding="utf-8")
    a = analysed(path)
    assert a.diagram.title
    assert [d for d in a.diagnostics if d.severity == "error"] == []
    choreography_of(a), orchestration_of(a)  # both projections build
    if name in SAMPLE_STYLES:
        assert 10 <= len(text.strip().split("\n")) <= 40
        assert a.style.style == SAMPLE_STYLES[name]
        assert [d.code for d in a.diagnostics] == []
