// Starts GOV.UK Frontend's components. Loaded as a module, so it only runs in browsers the Design
// System supports; the classes are also set here in case the page was served without a CSP nonce.
import { initAll } from '../govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()
