"""A merchandiser's day in a real browser: log in, edit a translation, bulk actions, add a category
and drag it around the tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from catalogue.demo import seed_catalogue
from catalogue.models import Product, ProductCategory
from taxonomy.models import Category
from taxonomy.selectors import tree_problems
from tests.catalogue.factories import ProductFactory
from tests.e2e.conftest import log_in
from tests.taxonomy.factories import CategoryFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_log_in_shows_the_back_office(page, superuser):
    log_in(page, superuser.username)
    assert page.inner_text("#site-name").strip() == "Catalogue back office"
    assert page.locator("a[href='/admin/catalogue/product/']").count() >= 1


def test_edit_a_translation_in_the_nl_tab(admin_page):
    product = ProductFactory(name_en="Storm Jacket", name_nl=None, parent=CategoryFactory())
    admin_page.goto(f"/admin/catalogue/product/{product.pk}/change/")
    name_nl = admin_page.locator("#id_name_nl")
    assert not name_nl.is_visible()  # other languages sit behind their tabs
    admin_page.click("a[href='#tab_id_name_nl']")
    name_nl.fill("Stormjas")
    admin_page.click("input[name=_save]")
    admin_page.wait_for_selector(".messagelist .success")
    assert "was changed successfully" in admin_page.inner_text(".messagelist")
    product.refresh_from_db()
    assert (product.name_nl, product.slug_nl, product.version) == ("Stormjas", "stormjas", 2)


def test_missing_default_name_is_shown_on_the_form(admin_page):
    product = ProductFactory(name_en="Cap")
    admin_page.goto(f"/admin/catalogue/product/{product.pk}/change/")
    admin_page.locator("#id_name_en").fill("")
    admin_page.evaluate("document.querySelector('#id_name_en').removeAttribute('required')")
    admin_page.click("input[name=_save]")
    admin_page.wait_for_selector(".errornote")
    assert "This field is required" in admin_page.inner_text(".field-name_en")
    product.refresh_from_db()
    assert (product.name_en, product.version) == ("Cap", 1)


def test_bulk_hide_from_the_list(admin_page):
    first, second, untouched = ProductFactory.create_batch(3)
    admin_page.goto("/admin/catalogue/product/")
    for product in (first, second):
        admin_page.check(f"input[name=_selected_action][value='{product.pk}']")
    admin_page.select_option("select[name=action]", "hide_products")
    admin_page.click("button[name=index]")
    admin_page.wait_for_selector(".messagelist .success")
    assert "2 product(s) hidden." in admin_page.inner_text(".messagelist")
    hidden = dict(Product.objects.values_list("pk", "hidden"))
    assert hidden == {first.pk: True, second.pk: True, untouched.pk: False}


def test_set_status_through_the_intermediate_page(admin_page):
    product = ProductFactory(status="A")
    admin_page.goto("/admin/catalogue/product/")
    admin_page.check(f"input[name=_selected_action][value='{product.pk}']")
    admin_page.select_option("select[name=action]", "set_status")
    admin_page.click("button[name=index]")
    admin_page.wait_for_selector("select[name=status]")
    admin_page.select_option("select[name=status]", "P")
    admin_page.click("input[value='Set status']")
    admin_page.wait_for_selector(".messagelist .success")
    product.refresh_from_db()
    assert (product.status, product.version) == ("P", 2)


def test_create_a_category_with_names_in_two_languages(admin_page):
    parent = CategoryFactory(name_en="Clothing")
    admin_page.goto("/admin/taxonomy/category/add/")
    admin_page.fill("#id_name_en", "Rain Jackets")
    admin_page.click("a[href='#tab_id_name_nl']")
    admin_page.fill("#id_name_nl", "Regenjassen")
    # the parent is picked by typing into the autocomplete, never from a full list
    admin_page.click(".field-parent .select2-selection")
    admin_page.fill(".select2-search__field", "cloth")
    admin_page.click(".select2-results__option:has-text('Clothing')")
    admin_page.click("input[name=_save]")
    admin_page.wait_for_selector(".messagelist .success")
    category = Category.objects.get(name_en="Rain Jackets")
    assert (category.name_nl, category.slug_nl, category.parent_id) == (
        "Regenjassen",
        "regenjassen",
        parent.pk,
    )
    assert "Rain Jackets" in admin_page.inner_text("#result_list")


def test_filter_products_by_category_with_the_autocomplete(admin_page):
    jackets = CategoryFactory(name_en="Jackets")
    inside = ProductFactory(name_en="Inside", parent=CategoryFactory(parent=jackets))
    ProductFactory(name_en="Outside", parent=CategoryFactory())
    admin_page.goto("/admin/catalogue/product/")
    admin_page.click("#changelist-filter .select2-selection")
    admin_page.fill(".select2-search__field", "jack")
    admin_page.click(".select2-results__option:has-text('Jackets')")
    admin_page.click("#changelist-filter input[value=Apply]")
    admin_page.wait_for_url(f"**category={jackets.pk}**")
    names = admin_page.locator("#result_list tbody th").all_inner_texts()
    assert names == [str(inside)]


def row(page, category):
    """The tree row of ``category`` in the category change list."""
    return page.locator(f"#result_list tbody tr:has(.tree-node[data-pk='{category.pk}'])")


def drag(page, category, target, zone: str) -> None:
    """Drag ``category``'s handle onto ``target``'s row: its top third drops before it, the middle
    third inside it, the bottom third after it (draggable-admin.js). The script posts the move and
    reloads the page."""
    handle = row(page, category).locator(".drag-handle").bounding_box()
    box = row(page, target).bounding_box()
    fraction = {"before": 1 / 6, "inside": 1 / 2, "after": 5 / 6}[zone]
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 200, box["y"] + box["height"] * fraction, steps=12)
    page.wait_for_selector("#drag-line")
    with page.expect_navigation():
        page.mouse.up()
    page.wait_for_selector("#result_list")


def tree_rows(page) -> list[tuple[str, str, str]]:
    """(name, indentation, parent column) of every row, as the page shows them."""
    return [
        (
            r.locator(".tree-title").inner_text().strip(),
            r.locator(".tree-title").evaluate("e => e.style.textIndent"),
            r.locator(".field-parent").inner_text().strip(),
        )
        for r in page.locator("#result_list tbody tr").all()
    ]


def test_create_a_category_then_drag_it_under_another_in_the_tree(admin_page):
    clothing = CategoryFactory(name_en="Clothing")
    CategoryFactory(name_en="Shirts", parent=clothing)
    outdoor = CategoryFactory(name_en="Outdoor")

    # a new top-level category with names in two languages
    admin_page.goto("/admin/taxonomy/category/add/")
    admin_page.fill("#id_name_en", "Rain Jackets")
    admin_page.click("a[href='#tab_id_name_nl']")
    admin_page.fill("#id_name_nl", "Regenjassen")
    admin_page.click("input[name=_save]")
    admin_page.wait_for_selector(".messagelist .success")
    rain = Category.objects.get(name_en="Rain Jackets")
    assert (rain.parent_id, rain.name_nl) == (None, "Regenjassen")
    assert tree_rows(admin_page) == [
        ("Clothing", "0px", "-"),
        ("Shirts", "20px", "Clothing"),
        ("Outdoor", "0px", "-"),
        ("Rain Jackets", "0px", "-"),
    ]

    # dropped on the middle of "Outdoor": it becomes Outdoor's child
    drag(admin_page, rain, outdoor, "inside")
    assert "“Rain Jackets” moved under “Outdoor”." in admin_page.inner_text(".messagelist .success")
    assert tree_rows(admin_page)[-2:] == [
        ("Outdoor", "0px", "-"),
        ("Rain Jackets", "20px", "Outdoor"),
    ]
    rain.refresh_from_db()
    assert (rain.parent_id, rain.level, rain.version) == (outdoor.pk, 1, 2)

    # dropped on the top of "Shirts": before it, under Clothing
    drag(admin_page, rain, Category.objects.get(name_en="Shirts"), "before")
    assert tree_rows(admin_page) == [
        ("Clothing", "0px", "-"),
        ("Rain Jackets", "20px", "Clothing"),
        ("Shirts", "20px", "Clothing"),
        ("Outdoor", "0px", "-"),
    ]
    rain.refresh_from_db()
    assert (rain.parent_id, rain.level) == (clothing.pk, 1)
    assert tree_problems() == []


def test_a_drop_into_its_own_subtree_is_refused_on_the_page(admin_page):
    clothing = CategoryFactory(name_en="Clothing")
    shirts = CategoryFactory(name_en="Shirts", parent=clothing)
    CategoryFactory(name_en="Shoes")
    admin_page.goto("/admin/taxonomy/category/")
    drag(admin_page, clothing, shirts, "inside")
    error = admin_page.inner_text(".messagelist .error")
    assert "cannot be moved under" in error and "one of its descendants" in error
    assert tree_rows(admin_page)[:2] == [("Clothing", "0px", "-"), ("Shirts", "20px", "Clothing")]
    clothing.refresh_from_db()
    assert (clothing.parent_id, clothing.version) == (None, 1)


def test_link_products_to_a_category_through_the_bulk_action(admin_page):
    jackets = CategoryFactory(name_en="Jackets")
    first, second = ProductFactory.create_batch(2)
    primary = ProductFactory(parent=jackets)
    admin_page.goto("/admin/catalogue/product/")
    for product in (first, second, primary):
        admin_page.check(f"input[name=_selected_action][value='{product.pk}']")
    admin_page.select_option("select[name=action]", "link_to_category")
    admin_page.click("button[name=index]")
    admin_page.click(".select2-selection")
    admin_page.fill(".select2-search__field", "jack")
    admin_page.click(".select2-results__option:has-text('Jackets')")
    admin_page.click("input[value='Link']")
    admin_page.wait_for_selector(".messagelist .success")
    assert "2 product(s) linked to “Jackets”." in admin_page.inner_text(".messagelist .success")
    assert "as its primary category" in admin_page.inner_text(".messagelist .warning")
    assert set(ProductCategory.objects.values_list("product_id", flat=True)) == {
        first.pk,
        second.pk,
    }


def test_screenshots_of_the_product_list_form_and_category_tree(admin_page, tmp_path):
    """Also refreshes docs/screenshots/ when SCREENSHOTS_DIR points there."""
    seed_catalogue(products=120, categories=20, seed=1)
    target = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    admin_page.set_viewport_size({"width": 1680, "height": 1000})
    admin_page.goto("/admin/catalogue/product/?o=-9")
    admin_page.screenshot(path=str(target / "product-list.png"))
    product = Product.objects.filter(parent__isnull=False).exclude(name_nl=None).first()
    admin_page.goto(f"/admin/catalogue/product/{product.pk}/change/")
    admin_page.click("a[href='#tab_id_name_nl']")
    admin_page.screenshot(path=str(target / "product-form.png"), full_page=True)
    admin_page.goto("/admin/taxonomy/category/")
    admin_page.wait_for_selector(".tree-node.children")  # the script has built the tree
    admin_page.screenshot(path=str(target / "category-tree.png"), full_page=True)
    for name in ("product-list.png", "product-form.png", "category-tree.png"):
        assert (target / name).stat().st_size > 10_000, name
