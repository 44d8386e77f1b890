"""The bounds every date typed into the system must keep (issue 18, item 7).

Data with its source, like the rest of the catalogue; ``workflow.kernel.payload`` applies
them to every parsed date, and ``workflow.kernel.backdating`` the back-dating rule.
"""

from __future__ import annotations

from datetime import date

#: No disclosure request can predate the first Regulation: 《中华人民共和国政府信息公开条例》
#: （2007年国务院令第492号）第三十八条 “本条例自2008年5月1日起施行”. (The 2019 revision,
#: 国务院令第711号, took effect on 2019-05-15; requests received before it still count.)
EARLIEST = date(2008, 5, 1)
EARLIEST_SOURCE = "《政府信息公开条例》（2007年）第三十八条：自2008年5月1日起施行"

#: The statistics and the annual reports read years up to 2100 (``workflow.statistics``);
#: nothing the office records lies beyond.
LATEST = date(2100, 12, 31)

#: A date the agency sets ahead of an action (a supplement's 补正期限, a fee's deadline,
#: a consultation's reply date) may lie at most this many days after the action's own
#: date. The statutory periods are weeks (条例 Art. 30: a reasonable period; Art. 32: 15
#: working days; Art. 33: 20 + 20 working days; Art. 42: 20 working days): a year is a
#: generous ceiling that still refuses 9999-12-31.
MAX_DAYS_AHEAD = 366
