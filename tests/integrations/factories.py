"""Test data for the CJ client: typed requests as the shop sends them."""

from integrations.cj.types import OrderLine, OrderRequest

PID = "2408300610371613200"
VID = "2408300610371613201"


def order_request(number: str = "T-1001", *, logistic: str = "CJPacket Ordinary", vid: str = VID) -> OrderRequest:
    """A createOrderV2 request for two of `vid`, shipped from CN to New York."""
    return OrderRequest(
        order_number=number,
        shipping_country_code="US",
        shipping_country="United States",
        shipping_province="New York",
        shipping_city="New York",
        shipping_address="1 Example Street",
        shipping_customer_name="Test Buyer",
        logistic_name=logistic,
        from_country_code="CN",
        lines=(OrderLine(vid=vid, quantity=2, store_line_item_id="line-1"),),
        shipping_zip="10001",
    )
