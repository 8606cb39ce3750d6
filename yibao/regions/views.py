from django.shortcuts import redirect, render

from yibao.accounts.decorators import scoped_view
from yibao.regions import selectors


@scoped_view("regions.view")
def tree(request):
    roots = selectors.region_roots(scope=request.scope)
    if len(roots) == 1:
        return redirect("regions:node", code=roots[0].code)
    return render(request, "regions/roots.html", {"roots": roots})


@scoped_view("regions.view")
def node(request, code: str):
    scope = request.scope
    region = selectors.region_get(scope=scope, code=code)
    children = selectors.region_children(scope=scope, code=code)
    path = [{"region": r, "link": scope.contains(r.code)} for r in selectors.region_path(code)]
    return render(
        request,
        "regions/tree.html",
        {
            "region": region,
            "path": path,
            "counts": selectors.region_counts(code=code),
            "children": children,
            "child_totals": {
                "residents": sum(c["residents"] for c in children),
                "households": sum(c["households"] for c in children),
            },
            "can_view_registry": scope.can("registry.view"),
        },
    )
