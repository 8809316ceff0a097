// Sign in and registration (A1).
import { api, currentUser, forgetUser } from "../api.js";
import { h, icon } from "../dom.js";
import { busy, field, input, formValues } from "../form.js";
import { navigate } from "../router.js";

export default function authScreen({ query }) {
  const registering = location.pathname === "/register";
  const next = query.get("next") || "/";
  const error = h("div", { class: "form-error", role: "alert" });
  const submit = h("button", { class: "btn btn-primary btn-block", type: "submit" },
    registering ? "Create account" : "Sign in");
  const form = h("form", { novalidate: true },
    registering
      ? [field("Username", input({ name: "username", autocomplete: "username", required: true, minlength: 3 })),
        field("Email", input({ name: "email", type: "email", autocomplete: "email", required: true }))]
      : field("Username or email", input({ name: "username", autocomplete: "username", required: true })),
    field("Password", input({ name: "password", type: "password", required: true, minlength: registering ? 10 : 1,
      autocomplete: registering ? "new-password" : "current-password" }),
    registering ? "At least 10 characters." : null),
    error, submit);

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const values = formValues(form);
    if (!form.checkValidity()) {
      error.textContent = registering ? "Fill in every field (password: at least 10 characters)." : "Enter your username and password.";
      return;
    }
    try {
      await busy(submit, async () => {
        const invite = query.get("invite");  // an owner's invite link: /register?invite=...
        if (registering) await api.post("/api/auth/register", invite ? { ...values, invite } : values);
        await api.post("/api/auth/login", { login: values.username, password: values.password });
      });
      forgetUser();
      await currentUser(true);
      window.dispatchEvent(new Event("vakt:signed-in"));
      navigate(next.startsWith("/") && !next.startsWith("//") ? next : "/", { replace: true });
    } catch (err) {
      error.textContent = err.message;
    }
  });

  const el = h("div", { class: "auth" },
    h("div", { class: "card auth-card" },
      h("div", { class: "brand" }, h("span", { class: "brand-mark" }, icon("shield", 18)), "vakt"),
      h("h1", {}, registering ? "Create your account" : "Welcome back"),
      h("p", {}, registering ? "Your home, your hub. Nothing leaves it." : "Sign in to see your home."),
      form,
      h("div", { class: "auth-switch" }, registering
        ? ["Already have an account? ", h("a", { href: "/signin" }, "Sign in")]
        : ["New here? ", h("a", { href: "/register" }, "Create an account")])));
  return { el, title: registering ? "Create account" : "Sign in" };
}
