"""What the security log records (issue 18 item 2, issue 15 item 8), with the rule behind it.

Each kind is written by exactly one place in the code; the audit page shows the label.
Sources: 网络安全法 Art. 21 (network logs, kept at least six months); 个人信息保护法
Art. 51 and 55 (access to personal information recorded); GB/T 22239-2019 (等保2.0)
level 3, 8.1.4.3 安全审计 (every user, important security events, protected records).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SecurityKind:
    code: str
    label: str
    #: A change to an account (rather than its use): shown with before and after.
    about_account: bool = False


SECURITY_KINDS: tuple[SecurityKind, ...] = (
    SecurityKind("login", "登录成功"),
    SecurityKind("login_failed", "登录失败"),
    SecurityKind("login_throttled", "登录被限制（失败次数过多）"),
    SecurityKind("second_factor_failed", "动态口令错误"),
    SecurityKind("logout", "退出登录"),
    SecurityKind("session_ended", "结束其他会话"),
    SecurityKind("password_changed", "本人修改密码", True),
    SecurityKind("password_reset", "管理员重置密码", True),
    SecurityKind("reauth_failed", "敏感操作的管理员密码错误", True),
    SecurityKind("totp_enabled", "启用动态口令", True),
    SecurityKind("totp_disabled", "停用动态口令", True),
    SecurityKind("totp_reset", "管理员重置动态口令", True),
    SecurityKind("recovery_codes_renewed", "重新生成恢复码", True),
    SecurityKind("recovery_code_used", "使用恢复码登录"),
    SecurityKind("user_created", "创建账号", True),
    SecurityKind("roles_changed", "角色变更", True),
    SecurityKind("activated", "启用账号", True),
    SecurityKind("deactivated", "停用账号", True),
    SecurityKind("token_created", "创建接口令牌", True),
    SecurityKind("token_revoked", "吊销接口令牌", True),
    SecurityKind("access_denied", "拒绝访问"),
    SecurityKind("personal_data_viewed", "查阅申请人个人信息"),
    SecurityKind("personal_data_exported", "导出申请人个人信息"),
    SecurityKind("agency_created", "新增机关"),
    SecurityKind("calendar_changed", "修改工作日历"),
    SecurityKind("calendar_deleted", "删除工作日历调整"),
    SecurityKind("calendar_year_entered", "录入年度放假安排"),
    SecurityKind("ledger_imported", "导入台账"),
    SecurityKind("report_published", "发布年度报告"),
)
SECURITY_KIND_BY_CODE: dict[str, SecurityKind] = {k.code: k for k in SECURITY_KINDS}
#: Kinds that change an account.
ACCOUNT_KINDS: frozenset[str] = frozenset(k.code for k in SECURITY_KINDS if k.about_account)
#: 网络安全法 Art. 21: network logs are kept at least six months. Entries are never
#: deleted by the application; this is the floor any archiving must respect.
RETENTION_DAYS = 183
