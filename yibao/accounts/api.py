from ninja import Router

router = Router(tags=["账号"])
