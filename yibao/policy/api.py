from ninja import Router

router = Router(tags=["缴费政策"])
