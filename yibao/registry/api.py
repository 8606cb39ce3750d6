from ninja import Router

router = Router(tags=["户籍与参保人"])
