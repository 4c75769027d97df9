"""Third-party assessment (第三方测评): agencies, assessors, the monthly sampling plan and the visits."""
