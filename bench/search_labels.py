"""A hand-labelled sample of subjects for the precision/recall of the search.

Each subject is labelled with the query words it is *about* (a clerk searching for that
word wants to see it): the word as a word, including inside a longer word of the same
meaning (低保户, 副市长), but not as two characters that happen to stand side by side
(南京市长江大桥 is not about the mayor, 市长; 本市长期护理 neither). Subjects written
about a concept in other words (最低生活保障 for 低保) are labelled relevant too: no
segmenter finds them, and the recall figure says so.
"""

from __future__ import annotations

QUERIES = ("征收", "拆迁", "低保", "土地", "安置", "补偿", "市长", "预算", "规划", "保障")

LABELLED: tuple[tuple[str, frozenset[str]], ...] = tuple(
    (subject, frozenset(words.split()))
    for subject, words in (
        ("某地块征收补偿安置方案及补偿标准", "征收 补偿 安置"),
        ("南京市长江大桥维修工程的招标文件", ""),
        ("市长信箱来信的办理情况", "市长"),
        ("城乡最低生活保障对象名单", "低保 保障"),
        ("本人低保资格认定的依据", "低保"),
        ("拆迁安置房分配方案", "拆迁 安置"),
        ("国有土地上房屋征收与补偿决定", "土地 征收 补偿"),
        ("土地利用总体规划图", "土地 规划"),
        ("某村集体土地征收的批准文件", "土地 征收"),
        ("本区2025年度部门预算及三公经费", "预算"),
        ("预算外资金管理办法", "预算"),
        ("保障性住房申请条件", "保障"),
        ("征收土地公告", "征收 土地"),
        ("拆除违法建筑的决定书", ""),
        ("征收补偿款发放明细", "征收 补偿"),
        ("规划许可证及总平面图", "规划"),
        ("城市规划馆开放时间", "规划"),
        ("低保户名单公示", "低保"),
        ("困难群众临时救助及低保金发放", "低保"),
        ("拆迁户安置补偿协议", "拆迁 安置 补偿"),
        ("棚户区改造征收范围", "征收"),
        ("本市长期护理保险试点方案", ""),
        ("土地征收成片开发方案", "土地 征收"),
        ("建设用地规划许可", "规划"),
        ("保障房摇号结果", "保障"),
        ("市长热线工单处理结果", "市长"),
        ("副市长分工文件", "市长"),
        ("安置点建设规划", "安置 规划"),
        ("预算执行审计报告", "预算"),
        ("征地拆迁补偿标准", "拆迁 补偿"),
        ("农村宅基地审批", ""),
        ("就业补助资金使用情况", ""),
    )
)
