"""What the messages carry, refined. This file is yours: mermaidgen 0.1.0 created it once
and never overwrites it.

mermaidgen reads this file on every `generate` (it never runs it). A class named like a
generated message class lists fields: an annotation of a field the diagram writes changes
its type, any other annotation adds a field, and the generated classes and default hooks
follow. Types: str, int, float, bool, Decimal, datetime, date, UUID, list[T], T | None
(mermaidgen's docs/fields.md). For example, below this docstring:

    from decimal import Decimal


    class TripCompleted:
        km: Decimal  # the diagram writes `TripCompleted(km, duration)`
        currency: str  # added here

The message classes, with the fields the diagram gives them when this file was created:
    ReserveStock: orderId: UUID, items: list[str]
    StockReserved: reservationId: str
    ReleaseStock: reservationId: str
    StockReleased
    ChargePayment: amount: Decimal, currency: str
    PaymentCaptured: paymentId: str
    PaymentDeclined: reason: str
    RefundPayment: paymentId: str
    PaymentRefunded
    CreateShipment: orderId: UUID, address: str
    ShipmentCreated: trackingNumber: str
"""
