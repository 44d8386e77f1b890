"""User roles (docs/domain.md §1)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    duty: str


ROLES: tuple[Role, ...] = (
    Role("registrar", "登记员", "登记申请、告知补正、记录补正材料和撤回"),
    Role("handler", "承办人", "登记员的全部权限，另可征求意见、发出收费通知、拟定答复"),
    Role("approver", "审核人", "批准延期答复、签发答复"),
    Role("legal", "法制员", "记录行政复议和行政诉讼案件及其结果"),
    Role("admin", "管理员", "用户、机关、工作日历和报告格式"),
    Role("viewer", "查阅人", "只读"),
    Role(
        "security_auditor",
        "安全审计员",
        "查阅安全日志（登录、账号变更、个人信息查阅），不能兼任管理员",
    ),
)
ROLE_BY_CODE: dict[str, Role] = {r.code: r for r in ROLES}
ROLE_CODES: tuple[str, ...] = tuple(ROLE_BY_CODE)
