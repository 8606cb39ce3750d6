from ninja import Router

router = Router(tags=["征收与退费"])
