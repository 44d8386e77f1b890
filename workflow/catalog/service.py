"""How a consultation letter or a fee notice reaches its addressee (送达方式).

The other side's time (Arts. 32 and 34: 15 working days; the 2020 fee measures: 20)
runs from its receipt of the letter, so the deadlines need the service date. Until it is
recorded, receipt is presumed from how the letter went out (docs/domain.md §3).
"""

from __future__ import annotations

#: Until its service date is recorded, a consultation letter or fee notice is presumed
#: received this many calendar days after it was sent, by how it was sent (a reading of
#: this project, stated on screen as 推定): electronic and in-person delivery the same
#: day; post three days later. No delivery recorded (older events): the sending day.
PRESUMED_RECEIPT_DAYS: dict[str, int] = {"electronic": 0, "in_person": 0, "post": 3}
DELIVERY_LABELS: dict[str, str] = {
    "electronic": "电子方式",
    "in_person": "当面送达",
    "post": "邮寄",
}
