"""What the template's Optimize button imports.

The button's macro is xlwings' Excel-authored ``SampleCall``, which runs
``import <workbook file name>; <name>.main()``; the template is named atlas_xl_template.xlsm, so
this module carries that name and hands over to the workbook layer.
"""
from workbook.optimizer_button import main

__all__ = ["main"]
