# State lives in S3 (created once by infra/bootstrap/), one state per workspace: `dev` and `prod`. The bucket's name
# carries the account's id, so it is given at init (a partial backend configuration):
#   terraform init -backend-config="bucket=$(terraform -chdir=bootstrap output -raw state_bucket)"
#   terraform workspace select -or-create dev && terraform apply
terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  backend "s3" {
    key                  = "infra.tfstate"
    workspace_key_prefix = "workspaces"
    region               = "eu-west-2"
    encrypt              = true
    # S3's own conditional writes lock the state (Terraform 1.10+): no DynamoDB lock table.
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project   = "actions-dashboard"
      Stage     = local.stage
      ManagedBy = "terraform"
    }
  }
}

# CloudFront only takes certificates from us-east-1.
provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"

  default_tags {
    tags = {
      Project   = "actions-dashboard"
      Stage     = local.stage
      ManagedBy = "terraform"
    }
  }
}
