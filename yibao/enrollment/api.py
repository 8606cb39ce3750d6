from ninja import Router

router = Router(tags=["参保与核定"])
