// Loaded first by the strict-CSP pages (tests/test_csp.py): records every
// securitypolicyviolation event from here on (from: the path of the script that caused it), and window.report(result) resolves window.done
// with the result, those violations and whether the page's inline script ran (it must not).
const violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const from = event.sourceFile ? new URL(event.sourceFile).pathname : "";
  violations.push({ directive: event.effectiveDirective, blocked: event.blockedURI, from });
});
window.done = new Promise((resolve) => {
  window.report = async (result) => {
    // Violation events are queued as tasks: let a pending one arrive before reporting.
    await new Promise((later) => setTimeout(later, 0));
    document.getElementById("status").textContent = "done";
    resolve({ result, violations, inlineRan: window.inlineRan === true });
  };
});
