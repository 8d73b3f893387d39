variable "region" {
  description = "Where everything but CloudFront's certificate lives."
  type        = string
  default     = "eu-west-2"
}

variable "domains" {
  description = "The host name of each stage: CloudFront's alias, the certificates' name and DJANGO_ALLOWED_HOSTS in zappa_settings.json (a test keeps the two equal)."
  type        = map(string)
  default = {
    dev  = "dev.actions-dashboard.example.com"
    prod = "actions-dashboard.example.com"
  }
}

variable "hosted_zone_name" {
  description = "The Route 53 public hosted zone the domains are in."
  type        = string
  default     = "actions-dashboard.example.com"
}

variable "github_repository" {
  description = "owner/name of the repository whose workflows deploy, trusted through GitHub's OIDC provider."
  type        = string
  default     = "example-org/actions-dashboard"
}

variable "alarm_email" {
  description = "Who the alarms e-mail (required: terraform apply -var alarm_email=ops@example.com). Other subscribers can be added to the SNS topic."
  type        = string

  validation {
    condition     = can(regex("^[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address: alarms that notify nobody are no alarms."
  }
}

variable "functions_deployed" {
  description = "Whether the first deploy has made the functions and their `live` aliases (first-time setup: false, deploy, then true)."
  type        = bool
  default     = true
}
