"""API permission classes that name the Django permission an endpoint needs, on top of is_staff.

`IsAdminUser` alone lets any staff user in (a Sales user included); operational endpoints, the
ones that spend CJ quota or start work, each need a specific permission as the admin does.
"""

from typing import Any

from rest_framework.permissions import BasePermission, IsAdminUser
from rest_framework.request import Request


def staff_permission(*perms: str) -> list[type[BasePermission]]:
    """`permission_classes` for staff holding every one of `perms` (superusers hold all): anonymous
    callers get 401, anyone else 403, in the API's error format."""

    class HasPermissions(BasePermission):
        message = "You do not have permission to perform this action."

        def has_permission(self, request: Request, view: Any) -> bool:
            return bool(request.user.has_perms(perms))

    HasPermissions.__name__ = HasPermissions.__qualname__ = "Has_" + "_and_".join(perms).replace(".", "_")
    return [IsAdminUser, HasPermissions]


def staff_any_permission(*perms: str) -> list[type[BasePermission]]:
    """`permission_classes` for staff holding at least one of `perms` (the view narrows further)."""

    class HasAnyPermission(BasePermission):
        message = "You do not have permission to perform this action."

        def has_permission(self, request: Request, view: Any) -> bool:
            return any(request.user.has_perm(perm) for perm in perms)

    HasAnyPermission.__name__ = HasAnyPermission.__qualname__ = "HasAny_" + "_or_".join(perms).replace(".", "_")
    return [IsAdminUser, HasAnyPermission]
