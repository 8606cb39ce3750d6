from ninja import Router

router = Router(tags=["对账"])
