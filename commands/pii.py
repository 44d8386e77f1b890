"""Personal data at rest: ``pii-new-key``, ``pii-encrypt``, ``pii-decrypt``.

Switching encryption on is: set ``GONGKAI_PII_KEY``, stop the application, run
``pii-encrypt`` (every existing row, in one transaction), start it again. The web
application refuses to start while the database and the key disagree
(``models.pii.check_database``). docs/domain.md §21.1 has the trade-offs.
"""

from __future__ import annotations

import click

from models.db import make_engine
from models.pii import convert_all
from workflow.kernel.pii import PiiKeyError, new_key


@click.command("pii-new-key")
def pii_new_key() -> None:
    """生成一个个人信息加密密钥（设为 GONGKAI_PII_KEY；请与数据库备份分开保管）。"""
    click.echo(new_key())


def _convert(encrypt: bool) -> None:
    engine = make_engine()
    try:
        changed = convert_all(engine, encrypt=encrypt)
    except PiiKeyError as err:
        raise click.ClickException(str(err)) from None
    finally:
        engine.dispose()
    done = "加密" if encrypt else "解密"
    click.echo(f"已{done} {changed} 件申请的证件号码、电话和地址")


@click.command("pii-encrypt")
def pii_encrypt() -> None:
    """用 GONGKAI_PII_KEY 加密全部申请人的证件号码、电话和地址（全部成功或全部不变）。"""
    _convert(True)


@click.command("pii-decrypt")
def pii_decrypt() -> None:
    """解密全部申请人个人信息（停用加密或更换密钥前；全部成功或全部不变）。"""
    _convert(False)


COMMANDS = (pii_new_key, pii_encrypt, pii_decrypt)
