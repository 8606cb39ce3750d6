"""Yibao 医保征缴: a county's yearly 城乡居民基本医疗保险 enrollment and contribution campaign."""
