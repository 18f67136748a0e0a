"""User administration (administrators only): accounts, roles, projects, passwords."""

from __future__ import annotations

from types import SimpleNamespace

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from tracker import audit
from tracker.auth import twofactor
from tracker.domain import DomainError
from tracker.extensions import db
from tracker.models import Role, User
from tracker.permissions import role_required
from tracker.users import bp, services
from tracker.users.forms import AccountFilterForm, AccountForm, NewAccountForm, PasswordForm
from tracker.web import conflict_page, field_error, version_changed

PER_PAGE = 50
admin_only = role_required(Role.ADMIN)


def _get_user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _keep_own_session(user: User) -> None:
    """After the acting administrator's own token rotated, sign them in again here."""
    if user.id == current_user.id:
        login_user(user)


@bp.route("/")
@admin_only
def index():
    """List the accounts with their role, projects, state and last sign-in."""
    form = AccountFilterForm(request.args)
    filters = {}
    if form.validate():
        filters = {
            "role": Role(form.role.data) if form.role.data else None,
            "active": {"active": True, "inactive": False}.get(form.status.data),
        }
    page = db.paginate(
        services.accounts_query(**filters), per_page=PER_PAGE, error_out=False, max_per_page=200
    )
    return render_template("users/index.html", form=form, page=page)


@bp.route("/new", methods=["GET", "POST"])
@admin_only
def new():
    """Create an account with an initial password typed twice."""
    form = NewAccountForm(projects=services.all_projects())
    if form.validate_on_submit():
        try:
            user = services.create_account(
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                projects=services.projects_by_id(form.project_ids.data),
                password=form.password.data,
            )
        except DomainError as error:
            field_error(form, error)
        else:
            db.session.commit()
            flash(_("The account of %(email)s is created.", email=user.email), "success")
            return redirect(url_for(".index"))
    return render_template("users/form.html", form=form, account=None)


def _shown(user: User, form: AccountForm):
    """The stored account and the submitted form as the conflict page compares them."""
    codes = {p.id: p.code for p in services.all_projects()}

    def projects(ids):
        return ", ".join(sorted(codes.get(i, str(i)) for i in ids)) or None

    def field(name, data):
        return SimpleNamespace(data=data, label=form[name].label)

    submitted = {
        "name": field("name", form.name.data),
        "role": field("role", form.role.data),
        "project_ids": field("project_ids", projects(form.project_ids.data or [])),
    }
    stored = SimpleNamespace(
        name=user.name,
        role=user.role,
        project_ids=projects(p.id for p in user.projects),
        updated_at=user.updated_at,
    )
    return submitted, stored


def _edit_page(user: User, form: AccountForm, password_form: PasswordForm | None = None):
    return render_template(
        "users/edit.html",
        account=user,
        form=form,
        password_form=password_form or PasswordForm(formdata=None, email=user.email),
    )


@bp.route("/<int:user_id>/edit", methods=["GET", "POST"])
@admin_only
def edit(user_id: int):
    """Change an account's name, role and projects; new rights end the user's sessions."""
    user = _get_user_or_404(user_id)
    form = AccountForm(
        obj=user if request.method == "GET" else None, projects=services.all_projects()
    )
    if request.method == "GET":
        form.expected_version.data = user.version
        form.project_ids.data = [p.id for p in user.projects]
    if form.validate_on_submit():
        if version_changed(form.expected_version.data, user):
            submitted, stored = _shown(user, form)
            return conflict_page(
                title=user.email,
                form=submitted,
                record=stored,
                fields=("name", "role", "project_ids"),
                back_url=url_for(".edit", user_id=user.id),
            )
        try:
            ended = services.update_account(
                user,
                name=form.name.data,
                role=form.role.data,
                projects=services.projects_by_id(form.project_ids.data or []),
                by=current_user,
            )
        except DomainError as error:
            field_error(form, error)
        else:
            db.session.commit()
            if ended:
                _keep_own_session(user)
                flash(
                    _("The changes are saved. %(email)s must sign in again.", email=user.email),
                    "success",
                )
            else:
                flash(_("The changes are saved."), "success")
            return redirect(url_for(".index"))
    return _edit_page(user, form)


@bp.route("/<int:user_id>/deactivate", methods=["POST"])
@admin_only
def deactivate(user_id: int):
    """Close an account and end its sessions; an administrator cannot close their own."""
    user = _get_user_or_404(user_id)
    try:
        services.deactivate(user, by=current_user)
    except DomainError as error:
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The account of %(email)s is deactivated.", email=user.email), "success")
    return redirect(url_for(".edit", user_id=user.id))


@bp.route("/<int:user_id>/activate", methods=["POST"])
@admin_only
def activate(user_id: int):
    """Reopen a closed account."""
    user = _get_user_or_404(user_id)
    services.activate(user)
    db.session.commit()
    flash(_("The account of %(email)s is active again.", email=user.email), "success")
    return redirect(url_for(".edit", user_id=user.id))


@bp.route("/<int:user_id>/password", methods=["POST"])
@admin_only
def reset_password(user_id: int):
    """Set a new password, typed twice, and end the user's sessions."""
    user = _get_user_or_404(user_id)
    password_form = PasswordForm(email=user.email)
    if password_form.validate_on_submit():
        try:
            services.reset_password(user, password_form.password.data)
        except DomainError as error:
            field_error(password_form, error)
        else:
            db.session.commit()
            _keep_own_session(user)
            flash(
                _("The password of %(email)s is changed; their sessions end.", email=user.email),
                "success",
            )
            return redirect(url_for(".edit", user_id=user.id))
    form = AccountForm(formdata=None, obj=user, projects=services.all_projects())
    form.expected_version.data = user.version
    form.project_ids.data = [p.id for p in user.projects]
    return _edit_page(user, form, password_form)


@bp.route("/<int:user_id>/two-factor/reset", methods=["POST"])
@admin_only
def reset_two_factor(user_id: int):
    """Remove a user's second factor (lost phone): she sets it up again at her next sign-in."""
    user = _get_user_or_404(user_id)
    if not user.has_second_factor:
        flash(_("%(email)s has no two-step sign-in to reset.", email=user.email), "info")
        return redirect(url_for(".edit", user_id=user.id))
    twofactor.turn_off(user)
    audit.record(db.session, "second_factor_reset", "user", user.id, {"by": "admin"})
    db.session.commit()
    _keep_own_session(user)
    flash(
        _(
            "Two-step sign-in of %(email)s is reset; their sessions end. They set it up"
            " again at their next sign-in.",
            email=user.email,
        ),
        "success",
    )
    return redirect(url_for(".edit", user_id=user.id))
