"""Helpers of the catalog tests."""


def item_data(category, **overrides):
    data = {"code": "T-001", "category": category, "name": "测试项目", "unit": "场", "price_ceiling": "1000",
            "target_groups": ["general"], "levels": ["district", "town", "community"],
            "standard_content": "服务内容", "standard_duration": "60分钟"}
    data.update(overrides)
    return data
