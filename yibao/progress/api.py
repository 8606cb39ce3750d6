from ninja import Router

router = Router(tags=["进度与报表"])
