from ninja import Router

router = Router(tags=["导入任务"])
