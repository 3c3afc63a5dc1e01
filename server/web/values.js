// The closed sets of values a ticket's fields take (SPEC §2).
export const channels = ['phone', 'email', 'web', 'chat', 'in_person', 'social', 'proactive'];
export const categories = ['product_quality', 'service_attitude', 'delivery', 'billing', 'technical', 'other'];
export const priorities = ['P1', 'P2', 'P3', 'P4'];
export const tiers = ['standard', 'gold', 'platinum'];
export const reject_reasons = ['duplicate', 'not_a_complaint', 'spam'];
