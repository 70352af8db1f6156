"""Small invoice helpers (an example document: code is rendered with indentation kept)."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

VAT_RATE = Decimal("0.19")  # German standard VAT rate
CURRENCY = "EUR"
MAX_LINE_ITEMS = 250


@dataclass
class LineItem:
    description: str
    quantity: int
    unit_price: Decimal

    def total(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(Decimal("0.01"), ROUND_HALF_UP)


def invoice_total(items: list[LineItem], vat_rate: Decimal = VAT_RATE) -> Decimal:
    """Net sum of all items plus VAT, rounded to cents."""
    if len(items) > MAX_LINE_ITEMS:
        raise ValueError(f"an invoice holds at most {MAX_LINE_ITEMS} line items")
    net = sum((item.total() for item in items), Decimal("0"))
    return (net * (1 + vat_rate)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def format_amount(amount: Decimal) -> str:
	# tabs are kept when code is rendered
	return f"{amount:,.2f} {CURRENCY}"
